"""The MLflow side: log a training run, register the model, move aliases by the gates, load by alias.

Tracking defaults to a SQLite file and a local artifact folder in the project root (``mer.settings``);
``MLFLOW_TRACKING_URI`` overrides. Aliases: ``champion`` (serving) moves only when every gate passed; a version
that fails gets ``candidate``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from mer import settings

EXPERIMENT = "music-emotion"
CHAMPION, CANDIDATE = settings.CHAMPION_ALIAS, "candidate"


def _mlflow():
    """Import MLflow lazily (1.5–9 s) and point it at the configured store."""
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    import mlflow
    import mlflow.sklearn  # noqa: F401  (makes mlflow.sklearn available to callers)

    mlflow.set_tracking_uri(settings.tracking_uri())
    return mlflow


def _experiment_id(mlflow) -> str:
    exp = mlflow.get_experiment_by_name(EXPERIMENT)
    if exp is not None:
        return exp.experiment_id
    local = settings.tracking_uri().startswith("sqlite:")
    return mlflow.create_experiment(EXPERIMENT, artifact_location=settings.artifact_location() if local else None)


def _flatten(prefix: str, value, out: dict) -> dict:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = value
    return out


def cv_metrics(metrics: dict) -> dict[str, float]:
    """Flat MLflow metrics: CV means and 95% bounds, hold-out figures, ECE, fairness gap."""
    out: dict[str, float] = {}
    for key, val in metrics["cv"].items():
        if isinstance(val, dict) and "mean" in val:
            out[f"cv_{key}_mean"] = val["mean"]
            if "ci95" in val:
                out[f"cv_{key}_ci95_low"], out[f"cv_{key}_ci95_high"] = val["ci95"]
    out |= {f"holdout_{k}": v for k, v in metrics["holdout"].items() if isinstance(v, float)}
    out["class_f1_gap"] = metrics["fairness"]["class_f1_gap"]
    out["gates_passed"] = float(metrics["gates_passed"])
    return out


@dataclass
class Registration:
    name: str
    version: str
    alias: str
    run_id: str
    failed_gates: list[str]

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def register(
    model_dir: str | Path, metrics: dict, params: dict, data_hashes: dict[str, str], reports_dir: str | Path,
    git_commit: str | None = None,
) -> Registration:
    """Log one run (params, figures, plots, hashes, commit, model) and register its model under an alias."""
    mlflow = _mlflow()
    from mlflow import MlflowClient
    from mlflow.models import Model

    name = settings.model_name(params)
    model_dir = Path(model_dir)
    model = mlflow.sklearn.load_model(str(model_dir))
    saved = Model.load(str(model_dir / "MLmodel"))
    reqs = (model_dir / "requirements.txt").read_text().split()
    input_example = None
    example_path = model_dir / "input_example.json"
    if example_path.exists():
        import pandas as pd

        ex = json.loads(example_path.read_text())
        input_example = pd.DataFrame(ex["data"], columns=ex["columns"])
    with mlflow.start_run(experiment_id=_experiment_id(mlflow)) as run:
        mlflow.log_params({k: str(v)[:500] for k, v in _flatten("", params, {}).items()})
        mlflow.log_metrics(cv_metrics(metrics))
        mlflow.set_tags({f"data.{k}": v for k, v in data_hashes.items()}
                        | {"git_commit": git_commit or "unknown", "candidate": metrics["candidate"]})
        mlflow.log_dict(metrics, "metrics.json")
        for png in sorted(Path(reports_dir).glob("*.png")):
            mlflow.log_artifact(str(png), artifact_path="plots")
        from mer.model.explain import log_importance

        log_importance(mlflow, model, params)  # global SHAP importance per feature and class: explain/*.png, *.csv
        info = mlflow.sklearn.log_model(
            model, name="model", registered_model_name=name, signature=saved.signature,
            input_example=input_example, pip_requirements=reqs, pyfunc_predict_fn="predict_proba",
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
        )
    version = str(info.registered_model_version)
    failed = [g["name"] for g in metrics["gates"] if not g["passed"]]
    alias = CANDIDATE if failed else CHAMPION
    client = MlflowClient()
    no_champion_yet = champion_version(name) is None
    client.set_registered_model_alias(name, alias, version)
    client.set_model_version_tag(name, version, "gates", "passed" if not failed else "failed: " + ",".join(failed))
    describe(client, name, version, metrics, params, data_hashes, git_commit, run.info.run_id,
             registered_model_too=alias == CHAMPION or no_champion_yet)
    return Registration(name, version, alias, run.info.run_id, failed)


def describe(client, name: str, version: str, metrics: dict, params: dict, data_hashes: dict[str, str],
             git_commit: str | None, run_id: str, registered_model_too: bool):
    """The model card (:mod:`mer.model.card`) from this run's figures: logged with the run (``model_card.md``,
    ``model_card.json``) and written as the version's description — and the registered model's, for the version that
    serves (the champion, or the first candidate while there is none)."""
    from mer.model.card import describe_in_registry, model_card

    card = model_card(metrics, params, name, version, data_hashes=data_hashes, git_commit=git_commit)
    client.log_text(run_id, card.markdown, "model_card.md")
    client.log_dict(run_id, card.fields, "model_card.json")
    describe_in_registry(client, card, registered_model_too)
    return card


def describe_existing(name: str | None = None) -> list[str]:
    """Write the model card of every registered version that has no description yet (versions registered before
    cards existed), from the ``metrics.json`` its run logged; the registered model gets the champion's card. Returns
    the versions described."""
    mlflow = _mlflow()
    from mlflow import MlflowClient

    from mer.model.card import card_from_registry

    name = name or settings.model_name()
    client = MlflowClient()
    champion = champion_version(name)
    done = []
    for mv in client.search_model_versions(f"name='{name}'"):
        if mv.description or not mv.run_id:
            continue
        try:
            mlflow.artifacts.load_dict(f"runs:/{mv.run_id}/metrics.json")
        except Exception:  # noqa: BLE001 — a run without its figures gets no card rather than an empty one
            continue
        card = card_from_registry(client, name, str(mv.version))
        client.update_model_version(name=name, version=str(mv.version), description=card.markdown)
        if str(mv.version) == champion:
            client.update_registered_model(name=name, description=card.markdown)
        done.append(str(mv.version))
    return sorted(done, key=int)


def champion_version(name: str | None = None) -> str | None:
    """The version the ``champion`` alias points at, or None when there is none yet."""
    _mlflow()
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        return str(MlflowClient().get_model_version_by_alias(name or settings.model_name(), CHAMPION).version)
    except MlflowException:
        return None


def load_champion(name: str | None = None, alias: str = CHAMPION):
    """The fitted classifier behind ``models:/<name>@<alias>`` (``predict_proba`` on a frame of the 50 features)."""
    return _mlflow().sklearn.load_model(f"models:/{name or settings.model_name()}@{alias}")


class ChampionHandle:
    """Serving's view of ``models:/<name>@<alias>``: loads it once, and follows a moved alias without a restart.

    ``get()`` asks the registry which version the alias points at no more often than every ``check_every_s``
    seconds and reloads only when it changed, so the request path costs a clock read almost always.
    """

    def __init__(self, name: str | None = None, alias: str = CHAMPION, check_every_s: float = 10.0):
        import threading

        self.name = name or settings.model_name()
        self.alias = alias
        self.check_every_s = check_every_s
        self.model = None
        self.version: str | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def _version_now(self) -> str | None:
        _mlflow()
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        try:
            return str(MlflowClient().get_model_version_by_alias(self.name, self.alias).version)
        except MlflowException:
            return None

    def get(self):
        """``(model, version)``; ``(None, None)`` while no version carries the alias."""
        import time

        now = time.monotonic()
        if now - self._checked >= self.check_every_s:
            with self._lock:
                if now - self._checked >= self.check_every_s:
                    version = self._version_now()
                    if version is not None and version != self.version:
                        self.model = _mlflow().sklearn.load_model(f"models:/{self.name}/{version}")
                        self.version = version
                    self._checked = now
        return self.model, self.version
