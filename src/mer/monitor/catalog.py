"""Loading what monitoring compares: the catalog's scored windows of a period, their feedback, and the reference.

**Reference**: the cleaned training table the served model was fit on — ``data/interim/<data.train_on>_clean.csv``
(what ``mer train`` reads; its sha256 is the registry's ``data.cleaned`` tag), one row per exact-duplicate group when
``data.dedupe_exact`` (as training does). Not ``data/processed/``: those rows are imputed, capped and scaled, while the
catalog stores raw features. Hold-out rows are included: the registered model is refit on all rows.

**Windows of the period**: every window whose latest verdict (its newest prediction) was made in
``[since, until)``, with its 50 features, OOD flag, label, confidence, decision and model version.
**Feedback**: the newest label per window (window feedback) and per track (track feedback), joined to the window's
latest verdict or the track's aggregate verdict.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from mer.catalog.models import Feedback, Prediction, Track, Window, WindowFeatures
from mer.schema import FEATURE_NAMES, LABEL_COLUMN


def reference_rows(params: dict[str, Any], path: str | Path | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The training rows (``Class`` + the 50 features) and a description (path, sha256, rows)."""
    from mer.hashing import sha256_file
    from mer.pipeline import cleaned_path

    p = Path(path) if path else cleaned_path(params["data"]["train_on"])
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no cleaned training table (run `mer clean` / `dvc repro` or `mer run` first)")
    table = pd.read_csv(p)
    if (params.get("data") or {}).get("dedupe_exact", True) and "dup_group" in table:
        table = table.drop_duplicates("dup_group")
    table = table[[LABEL_COLUMN, *FEATURE_NAMES]].reset_index(drop=True)
    return table, {"path": str(p), "sha256": sha256_file(p), "rows": len(table)}


def served_training(params: dict[str, Any]) -> dict[str, Any] | None:
    """The served (``champion``) version and the sha256 of the cleaned table its run trained on (the registry's
    ``data.cleaned`` tag); None when there is no registry, no champion or no tag. A local SQLite store that does not
    exist yet is not created."""
    from mer import settings

    uri = settings.tracking_uri()
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        return None
    try:
        from mer.model.registry import _mlflow

        _mlflow()
        from mlflow import MlflowClient

        client = MlflowClient()
        name = settings.model_name(params)
        mv = client.get_model_version_by_alias(name, settings.CHAMPION_ALIAS)
        tags = client.get_run(mv.run_id).data.tags
        return {"name": name, "version": str(mv.version), "cleaned_sha256": tags.get("data.cleaned")}
    except Exception:  # noqa: BLE001 - the registry is optional for a report
        return None


def _utc(when: datetime) -> pd.Timestamp:
    """A naive time is UTC (the catalog stores UTC)."""
    ts = pd.Timestamp(when)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def load_windows(session: Any, since: datetime | None = None, until: datetime | None = None) -> pd.DataFrame:
    """The period's windows, one row each, with their latest verdict (see the module docstring)."""
    latest = select(func.max(Prediction.id).label("pid")).group_by(Prediction.window_id).subquery()
    feature_cols = [getattr(WindowFeatures, n) for n in FEATURE_NAMES]
    stmt = (select(Window.id, Window.track_id, Window.ood, Prediction.created_at, Prediction.label,
                   Prediction.confidence, Prediction.decision, Prediction.model_name, Prediction.model_version,
                   *feature_cols)
            .join(Prediction, Prediction.window_id == Window.id)
            .join(latest, latest.c.pid == Prediction.id)
            .outerjoin(WindowFeatures, WindowFeatures.window_id == Window.id)
            .order_by(Window.id))
    if since is not None:
        stmt = stmt.where(Prediction.created_at >= _utc(since).to_pydatetime())
    if until is not None:
        stmt = stmt.where(Prediction.created_at < _utc(until).to_pydatetime())
    rows = session.execute(stmt).all()
    if not rows:
        return _empty_windows()
    cols = ["window_id", "track_id", "ood", "created_at", "label", "confidence", "decision", "model_name",
            "model_version", *FEATURE_NAMES]
    frame = pd.DataFrame(rows, columns=cols).reset_index(drop=True)
    frame["ood"] = frame["ood"].astype(bool)
    return frame


def _empty_windows() -> pd.DataFrame:
    return pd.DataFrame(columns=["window_id", "track_id", "ood", "created_at", "label", "confidence", "decision",
                                 "model_name", "model_version", *FEATURE_NAMES])


def load_feedback(session: Any, windows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labelled windows and labelled tracks among those of ``windows``: ``true, label, confidence, decision``."""
    cols = ["true", "label", "confidence", "decision"]
    fb = pd.DataFrame(session.execute(select(Feedback.id, Feedback.track_id, Feedback.window_id, Feedback.label)
                                      .order_by(Feedback.id)).all(),
                      columns=["id", "track_id", "window_id", "true"])
    if fb.empty or windows.empty:
        return pd.DataFrame(columns=cols), pd.DataFrame(columns=cols)
    on_window = fb[fb["window_id"].notna()].drop_duplicates("window_id", keep="last")
    on_window = on_window.astype({"window_id": int})
    lw = on_window[["window_id", "true"]].merge(windows[["window_id", "label", "confidence", "decision"]],
                                                 on="window_id")
    on_track = fb[fb["window_id"].isna()].drop_duplicates("track_id", keep="last")
    tracks = sorted(set(windows["track_id"].astype(int)) & set(on_track["track_id"].astype(int)))
    verdicts = pd.DataFrame(columns=["track_id", "label", "confidence", "decision"])
    if tracks:
        verdicts = pd.DataFrame(session.execute(select(Track.id, Track.label, Track.confidence, Track.decision)
                                                .where(Track.id.in_(tracks))).all(),
                                columns=["track_id", "label", "confidence", "decision"])
    lt = on_track[["track_id", "true"]].merge(verdicts, on="track_id")
    return lw[cols].reset_index(drop=True), lt[cols].reset_index(drop=True)


def build_report(url: str, params: dict[str, Any], since: datetime | None = None, until: datetime | None = None,
                 reference_path: str | Path | None = None, latency_p95_ms: float | None = None,
                 check_served: bool = True) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """The monitoring report of the catalog at ``url`` over ``[since, until)`` (see
    :func:`mer.monitor.drift.monitor_report`), with the reference rows and the period's windows (for the plots)."""
    from mer.catalog.engine import redact_url, session_factory
    from mer.monitor.drift import monitor_report
    from mer.settings import monitor_settings

    settings = monitor_settings(params)
    reference, ref_meta = reference_rows(params, reference_path)
    with session_factory(url)() as session:
        windows = load_windows(session, since, until)
        labelled_windows, labelled_tracks = load_feedback(session, windows)
    versions = windows.groupby(["model_name", "model_version"]).size() if len(windows) else pd.Series(dtype=int)
    meta = {
        "generated_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "catalog": redact_url(url),
        "period": {"since": since.isoformat() if since else None, "until": until.isoformat() if until else None},
        "models": [{"name": n, "version": str(v), "windows": int(c)} for (n, v), c in versions.items()],
        "reference": ref_meta,
    }
    report = monitor_report(reference, windows, settings, labelled_windows, labelled_tracks,
                            latency_p95_ms=latency_p95_ms, meta=meta)
    served = served_training(params) if check_served else None
    report["reference"]["served"] = served
    logged = (served or {}).get("cleaned_sha256")
    report["reference"]["matches_served"] = None if not logged else logged == ref_meta["sha256"]
    if logged and logged != ref_meta["sha256"]:
        report["alerts"].append({
            "kind": "reference", "subject": "training rows", "value": None, "threshold": None,
            "message": f"{ref_meta['path']} (sha256 {ref_meta['sha256'][:12]}) is not the table {served['name']} "
                       f"v{served['version']} was trained on (sha256 {logged[:12]}): drift is judged against "
                       f"other rows"})
    return report, reference, windows
