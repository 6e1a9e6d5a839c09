"""``POST /v1/predict`` (feature rows, micro-batched) and ``POST /v1/predict/audio`` (one file, stored)."""

from __future__ import annotations

import logging
import operator
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile, status
from starlette.concurrency import run_in_threadpool

from mer.api.config import ServeConfig
from mer.api.deps import ConfigDep, MetricsDep, ModelDep, PredictAccess, WriteAccess
from mer.api.model_service import ServedModel
from mer.api.schemas import FEATURE_ATTRIBUTES, AudioPrediction, PredictRequest, PredictResponse, Problem
from mer.api.verdicts import verdict, verdicts
from mer.schema import CLASSES

router = APIRouter(prefix="/v1", tags=["predict"])
_values = operator.attrgetter(*FEATURE_ATTRIBUTES)
_PROBLEMS: dict[int | str, dict[str, Any]] = {
    422: {"model": Problem, "description": "malformed rows (the error names the row and the field)"},
    503: {"model": Problem, "description": "no model loaded yet"},
}
_UPLOAD_CHUNK = 1 << 20
log = logging.getLogger("mer.api")


MAX_EXPLAINED_ROWS = 20  # ≈ 0.3 s per explained row: a request stays well inside the request time limit
_EXPLAIN = Query(description="add each verdict's explanation: every feature's SHAP contribution to the predicted "
                             "class's probability, largest first, with the base value (≈ 0.3 s per row; at most "
                             f"{MAX_EXPLAINED_ROWS} rows per request on /v1/predict)")


@router.post("/predict", response_model=PredictResponse, responses=_PROBLEMS, dependencies=[PredictAccess],
             summary="Score 1 to 1,000 rows of the 50 features", response_model_exclude_unset=True)
async def predict(body: PredictRequest, request: Request, served: ModelDep, config: ConfigDep,
                  metrics: MetricsDep, explain: Annotated[bool, _EXPLAIN] = False) -> dict[str, Any]:
    """Per row: probabilities, label, confidence, the verdict (accept, review or unscorable) with its reason, the
    top two classes, valence and arousal, and the out-of-distribution flags. A row outside what the model can judge
    (values beyond the training data's range, such as a tempo of 1e300 BPM) is ``unscorable``, never accepted.

    Concurrent requests are scored together in one model call (micro-batching); the response names the model
    version that scored this request.
    """
    X = np.array([_values(row) for row in body.rows], dtype=np.float64)
    if explain and len(X) > MAX_EXPLAINED_ROWS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"explain=true takes at most {MAX_EXPLAINED_ROWS} rows per request, got {len(X)}")
    if explain:  # not micro-batched: explaining costs far more than scoring
        scored = await run_in_threadpool(_explained, served, X, config)
    else:
        scored = await request.app.state.batcher.submit(X)
    metrics.count_results(scored.results, "rows")
    return {"model": scored.meta, "threshold": config.decision.accept_threshold,
            "predictions": [{"row": i, **r} for i, r in enumerate(scored.results)]}


def _explained(served: ServedModel, X: np.ndarray, config: ServeConfig):
    from mer.api.batching import Scored
    from mer.api.verdicts import row_verdicts
    from mer.scoring import score_columns

    cols = score_columns(served, X, config.decision, explain=True)
    return Scored(served.info, [{**v, "explanation": e}
                                for v, e in zip(row_verdicts(cols), cols["explanation"], strict=True)], len(X))


class UploadTooLarge(Exception):
    """The upload exceeds the configured size or duration limit (→ 413)."""


def _save_upload(upload: UploadFile, folder: str, max_bytes: int) -> Path:
    """Copy the upload to ``folder`` in chunks, keeping its extension (format detection), stopping at the limit."""
    suffix = Path(upload.filename or "").suffix.lower()
    suffix = suffix if suffix.isascii() and suffix[1:].isalnum() and len(suffix) <= 6 else ""
    target = Path(folder) / f"upload{suffix}"
    size = 0
    with open(target, "wb") as out:
        while chunk := upload.file.read(_UPLOAD_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise UploadTooLarge(f"upload exceeds the limit of {max_bytes} bytes")
            out.write(chunk)
    return target


def _check_duration(path: Path, max_duration_s: float) -> None:
    from mer.features.audio import audio_info  # the header of any format extraction reads (M4A too)

    try:
        info = audio_info(path)
    except Exception:  # noqa: BLE001 — undecodable: extraction reports the reason as an AudioError
        return
    if info.duration_s > max_duration_s:
        raise UploadTooLarge(f"audio lasts {info.duration_s:.1f} s; the limit is {max_duration_s:g} s")


def _window_ids(session, track_id: int) -> list[int]:
    """The catalog ids of the track's windows in time order: what ``POST /v1/feedback`` takes as ``window_id``."""
    from sqlalchemy import select

    from mer.catalog.models import Window

    return list(session.scalars(select(Window.id).where(Window.track_id == track_id).order_by(Window.index)))


def _score_and_store(upload: UploadFile, served: ServedModel, config: ServeConfig, method: str,
                     sessions, write_lock, explain: bool = False) -> dict[str, Any]:
    """Blocking part of an upload (runs in a worker thread): save, check, extract, score, store in the catalog."""
    from mer.catalog import save_track
    from mer.features.audio import AudioError
    from mer.features.ood import SEPARATOR
    from mer.scoring import score_audio

    name = Path(upload.filename or "upload").name or "upload"
    with tempfile.TemporaryDirectory(prefix="mer-upload-") as folder:
        path = _save_upload(upload, folder, config.max_upload_bytes)
        _check_duration(path, config.max_duration_s)
        try:
            track = score_audio(served, path, config.decision.replace(aggregate=method), name=name, explain=explain)
        except AudioError as exc:  # name the upload, not our temporary copy
            raise AudioError(str(exc).replace(str(path), name)) from exc
        except Exception as exc:  # a feature failing on odd audio is a property of the file here, as in batches
            log.exception("feature extraction failed on upload %s", name)
            raise AudioError(f"{name}: feature extraction failed: {type(exc).__name__}: {exc}") from exc
    explanations = track.windows.pop("explanation").tolist() if explain else None
    with sessions() as session, write_lock:
        track_id = save_track(session, path=name, content_hash=track.content_hash, duration_s=track.duration_s,
                              sample_rate=track.sample_rate, channels=track.channels, windows=track.windows,
                              aggregate=track.track)
        window_ids = _window_ids(session, track_id)
    windows = track.windows
    window_verdicts = verdicts(windows)
    if explanations is not None:
        window_verdicts = [{**v, "explanation": e} for v, e in zip(window_verdicts, explanations, strict=True)]
    summary = track.track
    return {
        "track_id": track_id, "file": name, "content_hash": track.content_hash, "duration_s": track.duration_s,
        "sample_rate": track.sample_rate, "channels": track.channels, "model": served.info,
        "threshold": config.decision.accept_threshold, "aggregate_method": method,
        "track": {**verdict(summary), "shares": {c: summary[f"share_{c}"] for c in CLASSES},
                  "scorable_share": summary["scorable_share"], "n_windows": summary["n_windows"]},
        "ood": bool(windows["ood"].any()),
        "windows": [
            {"window_id": wid, "start_s": float(w.start_s), "end_s": float(w.end_s), "partial": bool(w.partial),
             "ood": bool(w.ood), "ood_features": [f for f in str(w.ood_features or "").split(SEPARATOR) if f], **v}
            for wid, w, v in zip(window_ids, windows.itertuples(index=False), window_verdicts, strict=True)
        ],
    }


@router.post("/predict/audio", response_model=AudioPrediction, dependencies=[WriteAccess],
             summary="Score one audio file window by window and store it in the catalog",
             response_model_exclude_unset=True,
             responses={401: {"model": Problem, "description": "missing or wrong X-API-Key"},
                        413: {"model": Problem, "description": "file too large or too long"},
                        422: {"model": Problem, "description": "not decodable audio (the reason is given)"},
                        503: {"model": Problem, "description": "no model loaded yet"}})
async def predict_audio(
    request: Request,
    file: Annotated[UploadFile, File(description="WAV, FLAC, OGG, Opus or MP3")],
    served: ModelDep,
    config: ConfigDep,
    metrics: MetricsDep,
    aggregate: Annotated[Literal["mean", "vote"] | None, Query(
        description="how windows combine into the track verdict (default: params.yaml decision.aggregate)")] = None,
    explain: Annotated[bool, _EXPLAIN] = False,
) -> dict[str, Any]:
    """30-s windows → per-window probabilities and label (a timeline), the track's aggregate verdict and
    out-of-distribution flags. The track, its windows, features and predictions are saved in the catalog
    (idempotent by content: the same audio again updates the same track)."""
    from mer.features.audio import AudioError

    method = aggregate or config.decision.aggregate
    try:
        result = await run_in_threadpool(_score_and_store, file, served, config, method,
                                         request.app.state.sessions, request.app.state.write_lock, explain)
    except UploadTooLarge as exc:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(exc)) from exc
    except AudioError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unusable audio: {exc}") from exc
    finally:
        await file.close()
    metrics.count_results(result["windows"], "audio")
    return result


