"""Where things live and how they are configured: one place, overridable by environment variables.

``params.yaml`` in the project root holds every tunable number (data, split, CV, model, gates, decision rule);
the environment holds what differs between machines (tracking URI, database URL, project root).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

MODEL_NAME_DEFAULT = "music-emotion"


@dataclass(frozen=True)
class Paths:
    """The project's files, relative to its root (``MER_HOME`` or the working directory)."""

    root: Path

    @property
    def params(self) -> Path:
        return Path(os.environ.get("MER_PARAMS", self.root / "params.yaml"))

    @property
    def raw_dir(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def interim_dir(self) -> Path:
        return self.root / "data" / "interim"

    @property
    def processed_dir(self) -> Path:
        return self.root / "data" / "processed"

    @property
    def model_dir(self) -> Path:
        return self.root / "artifacts" / "model"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def example_features(self) -> Path:
        return self.root / "data" / "examples" / "example_features.csv"


def paths() -> Paths:
    return Paths(Path(os.environ.get("MER_HOME", os.getcwd())).resolve())


class NotAProject(FileNotFoundError):
    """mer needs a project (a folder with ``params.yaml``) and the folder it looked in is none."""


def require_project() -> Paths:
    """The project's paths, or :class:`NotAProject` saying where mer looked and how to point it elsewhere.

    Checked before anything writes into the project root (MLflow's ``mlflow.db``, the catalog), so a command run in
    the wrong folder stops with a reason instead of leaving an empty database there.
    """
    p = paths()
    if p.params.is_file():
        return p
    where = "MER_HOME" if "MER_HOME" in os.environ else "the working directory"
    missing = f"MER_PARAMS={os.environ['MER_PARAMS']} does not exist" if "MER_PARAMS" in os.environ \
        else f"no params.yaml in {p.root} ({where})"
    raise NotAProject(f"not in a mer project: {missing}. Run mer from the project folder (the one with params.yaml) "
                      f"or point it there: MER_HOME=/path/to/project mer ...")


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else a SQLite file in the project root (no server needed)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{require_project().root / 'mlflow.db'}"


def database_url() -> str:
    """``MER_DATABASE_URL`` if set (e.g. ``postgresql+psycopg://...``), else a SQLite catalog in the project root."""
    return os.environ.get("MER_DATABASE_URL") or f"sqlite:///{require_project().root / 'catalog.db'}"


def artifact_location() -> str:
    """Local artifact folder used when the experiment is created on a local store."""
    return (require_project().root / "mlartifacts").as_uri()


@cache
def _read_params(path: Path, mtime: float) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def load_params(path: str | Path | None = None) -> dict[str, Any]:
    """The parsed ``params.yaml`` (cached until the file changes)."""
    p = Path(path) if path else require_project().params
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such params file")
    return _read_params(p, p.stat().st_mtime)


def model_name(params: dict[str, Any] | None = None) -> str:
    """Registered model name: ``MER_MODEL_NAME``, else params ``registry.model_name``, else the default."""
    if env := os.environ.get("MER_MODEL_NAME"):
        return env
    return ((params or {}).get("registry") or {}).get("model_name", MODEL_NAME_DEFAULT)
