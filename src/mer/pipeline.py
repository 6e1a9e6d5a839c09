"""The main job as library calls: clean → train + evaluate → register → predict the bundled example.

The DVC stages (``dvc.yaml``) and ``mer run`` call the same functions, so both produce the same files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from mer import settings
from mer.data.cleaning import clean_table
from mer.hashing import sha256_file

DATASETS = {"uci": "acoustic_features.csv", "course": "turkish_music_emotion_modified.csv"}


def clean_file(src: str | Path, out: str | Path, report: str | Path) -> dict:
    """Clean one CSV into ``out`` and write its report; returns the report."""
    result = clean_table(src)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(report).parent.mkdir(parents=True, exist_ok=True)
    result.table.to_csv(out, index=False)
    rep = result.report.to_dict()
    with open(report, "w", encoding="utf-8") as fh:
        json.dump(rep, fh, indent=2)
        fh.write("\n")
    return rep


def cleaned_path(dataset: str) -> Path:
    return settings.paths().interim_dir / f"{dataset}_clean.csv"


def cleaned(dataset: str) -> Path:
    """The cleaned table of ``dataset``, cleaning the raw files first when it does not exist yet."""
    path = cleaned_path(dataset)
    if not path.exists():
        clean_all()
    return path


def clean_all() -> dict[str, dict]:
    p = settings.paths()
    return {
        name: clean_file(p.raw_dir / raw, cleaned_path(name), p.reports_dir / f"cleaning_{name}.json")
        for name, raw in DATASETS.items()
    }


def train_stage(params: dict, progress: Callable[..., None] | None = None, candidate: str | None = None):
    from mer.model.training import train

    settings.check_params(params)  # an unknown option value is an error here, never a silent fallback
    p = settings.paths()
    return train(cleaned_path(params["data"]["train_on"]), params, p.model_dir, p.reports_dir, p.processed_dir,
                 progress=progress, candidate=candidate)


def data_hashes(params: dict) -> dict[str, str]:
    """sha256 of the three data states (raw, cleaned, processed) the model was made from."""
    p = settings.paths()
    name = params["data"]["train_on"]
    files = {"raw": p.raw_dir / DATASETS[name], "cleaned": cleaned_path(name),
             "processed_development": p.processed_dir / "development.csv",
             "processed_holdout": p.processed_dir / "holdout.csv"}
    return {k: sha256_file(v) for k, v in files.items() if v.exists()}


def register_stage(params: dict):
    from mer.model.registry import register
    from mer.model.training import git_commit

    p = settings.paths()
    metrics = json.loads((p.reports_dir / "metrics.json").read_text())
    reg = register(p.model_dir, metrics, params, data_hashes(params), p.reports_dir, git_commit())
    (p.reports_dir / "registration.json").write_text(json.dumps(reg.to_dict(), indent=2) + "\n")
    return reg, metrics


# ------------------------------------------------------------------------------------------- the main job --
def ensure_champion(params: dict, say: Callable[[str], None] = print,
                    train: Callable[[dict], object] | None = None) -> str:
    """The champion's version; when the registry has none, clean, train, evaluate and register one first.

    ``say`` receives one-line progress messages; ``train`` (default :func:`train_stage`) lets a door draw its own
    progress around the training. Raises :class:`NoChampion` when the new model fails the gates.
    """
    from mer.model.registry import CHAMPION, champion_version

    name = settings.model_name(params)
    version = champion_version(name)
    if version is not None:
        say(f"champion: {name} version {version}")
        return version
    say(f"no champion for {name}: training one (this takes a few minutes)")
    clean_all()
    (train or train_stage)(params)
    reg, _ = register_stage(params)
    say(f"registered {reg.name} version {reg.version} as {reg.alias}")
    if reg.alias != CHAMPION:
        raise NoChampion(f"the trained model failed the gates {reg.failed_gates}; it is registered as "
                         f"{reg.alias}, nothing to serve")
    return reg.version


class NoChampion(RuntimeError):
    """No model carries the alias a door needs (the message says what to run)."""


def load_scorer(ref: settings.ModelRef):
    """The registered model behind ``ref`` with its version (read once, so both refer to the same model)."""
    from mer.model.registry import ChampionHandle
    from mer.scoring import Scorer

    handle = ChampionHandle(ref.name, ref.alias, check_every_s=0.0)
    try:
        model, version = handle.get()
    except settings.NotAProject:
        raise  # says where mer looked for the project; not a missing model
    except Exception as exc:  # MLflow raises several types for a missing model, alias or store
        raise NoChampion(f"no model at {ref.uri} ({type(exc).__name__}); run `mer run` (or `mer train && mer "
                         "register`) first") from exc
    if model is None or version is None:
        raise NoChampion(f"no model at {ref.uri}; run `mer run` (or `mer train && mer register`) first")
    return Scorer(model, ref.name, str(version), ref.alias)


def score_csv(source: str | Path, scoring: settings.ScoringSettings, scorer=None, explain: bool = False):
    """Score a features CSV (any dialect): one row per non-blank record, with its ``line`` in the input, the
    verdict, the reason and the model identity (:func:`mer.scoring.score_matrix`; ``explain``: + ``explanation``)."""
    from mer.data.cleaning import read_feature_rows
    from mer.scoring import score_matrix

    rows = read_feature_rows(source)  # InputError before any model is loaded when the file is no feature table
    scorer = scorer or load_scorer(scoring.model)
    out = score_matrix(scorer, rows.features.to_numpy(dtype=float), scoring.decision, rows.problems, explain)
    out.insert(0, "line", rows.lines)
    return out


def run(params: dict, say: Callable[[str], None] = print, train: Callable[[dict], object] | None = None) -> Path:
    """The main job: make sure a champion exists (training one if needed), then score the bundled example into
    ``reports/example_predictions.csv``; returns that path. Serving is the door's business."""
    ensure_champion(params, say, train)
    p = settings.paths()
    out = p.reports_dir / "example_predictions.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    score_csv(p.example_features, settings.scoring_settings(params)).to_csv(out, index=False)
    say(f"example scored: {out}")
    return out
