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
