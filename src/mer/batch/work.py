"""One file's work, as it runs on a worker: audio → windows with decisions, plus the track's aggregate row.

Everything here must be importable and picklable on any worker (a local process or a Dask worker on another machine):
the model arrives once per worker (process-pool initializer, or a Dask scatter), the rest as plain data. A failure is
returned as an :class:`Outcome` with an error, never raised, so one bad file cannot stop the batch.
"""

from __future__ import annotations

import os
import select
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from mer.decision import DECISION_COLUMNS, SHARE_COLUMNS
from mer.schema import FEATURE_NAMES
from mer.scoring import MODEL_COLUMNS
from mer.settings import DecisionSettings

WINDOW_COLUMNS: tuple[str, ...] = (
    "file", "content_hash", "start_s", "end_s", "partial", "ood", "ood_features",
    *FEATURE_NAMES, *DECISION_COLUMNS, *MODEL_COLUMNS,
)
TRACK_COLUMNS: tuple[str, ...] = (
    "file", "content_hash", "duration_s", "sample_rate", "channels", "n_windows", "n_ood_windows", "aggregate_method",
    *DECISION_COLUMNS, *SHARE_COLUMNS, "scorable_share", *MODEL_COLUMNS,
)
ERROR_COLUMNS: tuple[str, ...] = ("file", "content_hash", "error")


@dataclass(frozen=True)
class ScoreSettings:
    """Everything that decides a file's rows besides the audio and the model: part of the job's identity."""

    model_name: str
    model_version: str
    decision: DecisionSettings
    extract_options: dict[str, float] = field(default_factory=dict)

    def fingerprint(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "model_version": self.model_version,
                "decision": dict(sorted(asdict(self.decision).items())),
                "extract_options": dict(sorted(self.extract_options.items()))}


@dataclass(frozen=True)
class FileTask:
    path: str
    content_hash: str


@dataclass
class Outcome:
    """One file's result: its windows and track row, or an error.

    ``final`` errors belong to the file's content (it does not decode, it is too short) and are recorded with its hash
    so a rerun does not try again; other errors (a worker died) are reported but retried by the next run.
    """

    file: str
    content_hash: str
    windows: pd.DataFrame | None = None
    track: dict[str, Any] | None = None
    error: str | None = None
    final: bool = True
    seconds: float = 0.0
    cpu_s: float = 0.0  # CPU seconds of the worker process (all its threads) spent on this file
    audio_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def score_file(model, task: FileTask, settings: ScoreSettings) -> Outcome:
    """Extract, score and aggregate one file; any failure becomes the outcome's error."""
    from mer.features.audio import AudioError
    from mer.scoring import score_audio

    t0, c0 = time.perf_counter(), time.process_time()
    try:
        scored = score_audio(model, task.path, settings.decision, extract_options=settings.extract_options)
    except AudioError as exc:
        return Outcome(task.path, task.content_hash, error=str(exc).removeprefix(f"{task.path}: "),
                       seconds=time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 — a bug on one odd file must not stop the batch
        return Outcome(task.path, task.content_hash, error=f"scoring failed: {type(exc).__name__}: {exc}",
                       seconds=time.perf_counter() - t0)
    content_hash = scored.content_hash or task.content_hash  # the bytes actually read, should the file have changed
    windows = scored.windows.copy()
    windows["file"] = task.path
    windows.insert(1, "content_hash", content_hash)
    track = {
        "file": task.path, "content_hash": content_hash, "duration_s": float(scored.duration_s),
        "sample_rate": int(scored.sample_rate), "channels": int(scored.channels), "n_windows": len(windows),
        "n_ood_windows": int(windows["ood"].sum()), "aggregate_method": settings.decision.aggregate,
        **{k: scored.track[k] for k in (*DECISION_COLUMNS, *SHARE_COLUMNS, "scorable_share", *MODEL_COLUMNS)},
    }
    return Outcome(task.path, content_hash, windows=windows[list(WINDOW_COLUMNS)], track=track,
                   seconds=time.perf_counter() - t0, cpu_s=time.process_time() - c0, audio_s=float(scored.duration_s))


# --- the local process pool's side: the model is unpickled once per worker process by the pool's initializer ---

_WORKER_MODEL: Any = None


def init_worker(model, parent_pid: int | None = None) -> None:
    """Process-pool initializer: keep the model this worker was given (it arrives pickled once per process), hold
    BLAS/OpenMP to one thread — the pool already runs one worker per core (Dask's nanny does the same) — and, given
    the batch process's pid, end this worker when that process is gone (a ``kill -9`` must not leave orphans)."""
    global _WORKER_MODEL
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    _WORKER_MODEL = model
    if parent_pid is not None:
        threading.Thread(target=_exit_after, args=(parent_pid,), name="parent-watch", daemon=True).start()


def _exit_after(pid: int) -> None:
    """Block until process ``pid`` ends (a pidfd becomes readable; polling where there is none), then exit."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        select.select([fd], [], [])
    else:  # pragma: no cover - kernels before 5.3
        while _alive(pid):
            time.sleep(1.0)
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def score_file_in_worker(task: FileTask, settings: ScoreSettings) -> Outcome:
    """:func:`score_file` with the model the initializer stored in this process."""
    if _WORKER_MODEL is None:
        raise RuntimeError("worker started without a model (init_worker was not run)")
    return score_file(_WORKER_MODEL, task, settings)
