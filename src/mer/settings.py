"""Where things live and how they are configured: one place, overridable by environment variables.

``params.yaml`` in the project root holds every tunable number (data, split, CV, model, gates, decision rule);
the environment holds what differs between machines (tracking URI, database URL, project root).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

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
    """The parsed ``params.yaml`` (cached until the file changes), checked: an option value that is not one of its
    choices (``search: randm``) raises :class:`SettingsError`."""
    p = Path(path) if path else require_project().params
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such params file")
    return check_params(_read_params(p, p.stat().st_mtime))


def model_name(params: dict[str, Any] | None = None) -> str:
    """Registered model name: ``MER_MODEL_NAME``, else params ``registry.model_name``, else the default."""
    if env := os.environ.get("MER_MODEL_NAME"):
        return env
    return ((params or {}).get("registry") or {}).get("model_name", MODEL_NAME_DEFAULT)


# ------------------------------------------------------------------------------------------- typed settings --
# params.yaml is read once at a door (a CLI command, `mer serve`, a batch) and resolved into these frozen
# dataclasses; the library takes them as arguments and never re-reads the file or falls back to a literal.

CHAMPION_ALIAS = "champion"
AGGREGATIONS: tuple[str, ...] = ("mean", "vote")
# every option of params.yaml that takes one of a few words: an unknown word is an error, never a silent fallback
CHOICES: dict[tuple[str, str], tuple[object, ...]] = {
    ("data", "train_on"): ("uci", "course"),
    ("model", "candidate"): ("logreg", "svm", "lda", "rf", "et", "gb", "vote", "ensemble"),
    ("model", "scaler"): ("power", "standard", "robust"),
    ("model", "calibration"): ("temperature", "sigmoid", "isotonic", None),
    ("model", "search"): ("grid", "random"),
    ("decision", "aggregate"): AGGREGATIONS,
    ("monitor", "correction"): ("bh", "holm"),
}


class SettingsError(ValueError):
    """A value in params.yaml (or an option) that is not allowed; the message names the key and the choices."""


def check_choice(key: tuple[str, str], value: object) -> object:
    allowed = CHOICES[key]
    if value not in allowed:
        names = ["null" if a is None else str(a) for a in allowed]
        shown = f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]
        raise SettingsError(f"{'.'.join(key)}: {value!r} is not allowed; choose {shown}")
    return value


def check_params(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` unchanged, or :class:`SettingsError` for the first option whose value is not one of its choices."""
    for (section, key) in CHOICES:
        block = params.get(section) or {}
        if key in block:
            check_choice((section, key), block[key])
    decision_settings(params)  # numbers in range
    monitor_settings(params)
    return params


@dataclass(frozen=True)
class DecisionSettings:
    """The decision rule's knobs (``params.yaml: decision``), documented in :mod:`mer.decision`.

    * ``accept_threshold`` — a clip (window, row) is accepted when its top probability reaches it;
    * ``aggregate`` — windows → track probabilities: ``mean`` (duration-weighted) or ``vote``;
    * ``ood_margin`` — the out-of-distribution guard's slack, a fraction of each feature's UCI range
      (:mod:`mer.features.ood`); a row outside it is ``unscorable``;
    * ``track_min_share`` / ``track_max_other`` — a track whose mean is not confident is still accepted when
      windows accepted on their own with its label cover at least ``track_min_share`` of its scorable time and
      windows accepted with any other one mood cover less than ``track_max_other``
      (:func:`mer.decision.track_decision`);
    * ``track_min_scorable`` — a track with less scorable time than this share is ``unscorable``.
    """

    accept_threshold: float = 0.75
    aggregate: str = "mean"
    ood_margin: float = 0.1
    track_min_share: float = 0.5
    track_max_other: float = 0.25
    track_min_scorable: float = 0.5

    def __post_init__(self) -> None:
        for name in ("accept_threshold", "track_min_share", "track_max_other", "track_min_scorable"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
                raise SettingsError(f"decision.{name}: {value!r} is not a number in [0, 1]")
        if not (isinstance(self.ood_margin, int | float) and self.ood_margin >= 0):
            raise SettingsError(f"decision.ood_margin: {self.ood_margin!r} is not a number >= 0")
        check_choice(("decision", "aggregate"), self.aggregate)

    def replace(self, **changes: Any) -> DecisionSettings:
        """A copy with the options given (``None`` values are ignored: an option left unset at a door)."""
        from dataclasses import replace

        return replace(self, **{k: v for k, v in changes.items() if v is not None})


@dataclass(frozen=True)
class ModelRef:
    """Which registered model a door scores with: ``models:/<name>@<alias>``."""

    name: str = MODEL_NAME_DEFAULT
    alias: str = CHAMPION_ALIAS

    @property
    def uri(self) -> str:
        return f"models:/{self.name}@{self.alias}"


@dataclass(frozen=True)
class ScoringSettings:
    """Everything a door resolves once: the decision rule and the model to load."""

    decision: DecisionSettings = DecisionSettings()
    model: ModelRef = ModelRef()


_S = TypeVar("_S")


def _section(params: dict[str, Any] | None, name: str, cls: type[_S]) -> _S:
    """``params[name]`` as the frozen dataclass ``cls``; a key ``cls`` does not know is an error, not ignored."""
    block = dict((params or {}).get(name) or {})
    unknown = sorted(set(block) - set(cls.__dataclass_fields__))
    if unknown:
        raise SettingsError(f"{name}: unknown option(s) {', '.join(unknown)}; known: "
                            f"{', '.join(cls.__dataclass_fields__)}")
    return cls(**block)


def decision_settings(params: dict[str, Any] | None = None) -> DecisionSettings:
    return _section(params, "decision", DecisionSettings)


def scoring_settings(params: dict[str, Any] | None = None, alias: str | None = None) -> ScoringSettings:
    """The typed settings of ``params`` (default: the project's params.yaml, or the defaults when there is none)."""
    if params is None:
        try:
            params = load_params()
        except FileNotFoundError:  # a container or a test without params.yaml: the documented defaults
            params = {}
    check_params(params)
    return ScoringSettings(decision_settings(params), ModelRef(model_name(params), alias or CHAMPION_ALIAS))


@dataclass(frozen=True)
class MonitorSettings:
    """Monitoring thresholds (``params.yaml: monitor``), documented in :mod:`mer.monitor`: a feature drifts when its
    PSI reaches ``psi_threshold`` *and* its KS p-value, corrected for 50 tests (``bh`` or ``holm``), is below
    ``ks_alpha``; every other key is the bound of one alert."""

    psi_bins: int = 10
    psi_threshold: float = 0.25
    ks_alpha: float = 0.05
    correction: str = "bh"
    max_drifted_features: int = 3
    min_windows: int = 30
    max_class_mix_diff: float = 0.2
    max_ood_share: float = 0.2
    max_unscorable_share: float = 0.2
    max_review_share: float = 0.6
    min_labelled: int = 20
    min_accuracy: float = 0.7
    min_macro_f1: float = 0.65
    min_accepted_precision: float = 0.85
    max_ece: float = 0.1
    bootstrap: int = 1000
    top_features: int = 6
    refresh_s: float = 300.0
    live_period_h: float = 24.0

    def __post_init__(self) -> None:
        check_choice(("monitor", "correction"), self.correction)


def monitor_settings(params: dict[str, Any] | None = None) -> MonitorSettings:
    return _section(params, "monitor", MonitorSettings)
