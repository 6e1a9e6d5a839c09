"""The catalog's store API: what the REST API and batch scoring call. Plain data in, plain dicts out.

Every function takes a :class:`~sqlalchemy.orm.Session` (see :func:`mer.catalog.session_scope`). The two writers,
:func:`save_track` and :func:`add_feedback`, **commit before they return**: an id in the caller's hand is a durable
row, whatever the caller does with the session afterwards.

Idempotency of :func:`save_track` is by ``content_hash`` (the audio's bytes, not its path): saving the same content
again returns the existing id and updates it in place —

* the track's path, audio shape and aggregate verdict become the ones just saved — except that a bare file name (an
  upload's) never replaces a path with folders (what a batch catalogued), so the catalog keeps where the file is;
* when the windows are the same (same starts, ends and partial flags) their rows and ids are kept, with features and
  OOD flags refreshed; when they differ (other window settings) they are replaced;
* predictions of the *same* model name and version are replaced; other versions' predictions are kept, so a catalog
  rescored by a new champion holds both verdicts for comparison;
* feedback is never deleted (window-level feedback on a replaced window stays as track-level feedback).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import Select, and_, delete, exists, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from mer.catalog.models import DECISIONS, Feedback, Prediction, Track, Window, WindowFeatures, utcnow
from mer.decision import AFFECT_COLUMNS, DECISION_COLUMNS, PROBA_COLUMNS, SHARE_COLUMNS
from mer.schema import CLASSES, FEATURE_NAMES, normalise_label

WINDOW_COLUMNS: tuple[str, ...] = ("start_s", "end_s", "partial", "ood", "ood_features")
REQUIRED_WINDOW_COLUMNS: tuple[str, ...] = (*WINDOW_COLUMNS, *FEATURE_NAMES, *DECISION_COLUMNS)
VERDICT_FIELDS: tuple[str, ...] = (*DECISION_COLUMNS, "model_name", "model_version", "model_alias")
TRACK_SHARE_FIELDS: tuple[str, ...] = (*SHARE_COLUMNS, "scorable_share")
TRACK_FIELDS: tuple[str, ...] = (
    "id", "path", "content_hash", "duration_s", "sample_rate", "channels", "created_at", "updated_at",
    *TRACK_SHARE_FIELDS,
)
_LAYOUT_DECIMALS = 6  # window bounds equal to a microsecond are the same window


# --------------------------------------------------------------------------------------------------- validation --
def _finite(value: Any, what: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{what} is {value!r}; it must be a finite number")
    return number


def _optional_float(value: Any) -> float | None:
    """Feature values: NaN and None become NULL (a feature the extractor could not compute)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _ood_text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, list | tuple | np.ndarray):
        value = ";".join(map(str, value))
    text = str(value).strip()
    return text or None


def _verdict(row: Mapping[str, Any], model: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The decision columns of one row plus the model's identity, checked so the database never sees nonsense.

    Only an ``unscorable`` verdict may lack probabilities (the model gave no finite ones): they are stored NULL."""
    if row["decision"] not in DECISIONS:
        raise ValueError(f"{where}: decision {row['decision']!r} is not one of {', '.join(DECISIONS)}")
    reason = row.get("reason")
    reason = None if reason is None or (isinstance(reason, float) and math.isnan(reason)) else str(reason)
    if row["decision"] == "unscorable" and not all(_optional_float(row[p]) is not None for p in PROBA_COLUMNS):
        return {**{p: None for p in (*PROBA_COLUMNS, "confidence", *AFFECT_COLUMNS)}, "label": None, "top2": None,
                "decision": "unscorable", "reason": reason, **model}
    out: dict[str, Any] = {p: _finite(row[p], f"{where}: {p}") for p in PROBA_COLUMNS}
    out["confidence"] = _finite(row["confidence"], f"{where}: confidence")
    if row["label"] not in CLASSES:
        raise ValueError(f"{where}: label {row['label']!r} is not one of {', '.join(CLASSES)}")
    out |= {a: _optional_float(row.get(a)) for a in AFFECT_COLUMNS}
    out |= {"label": row["label"], "decision": row["decision"], "reason": reason, "top2": str(row["top2"]), **model}
    return out


def _model_identity(aggregate: Mapping[str, Any]) -> dict[str, Any]:
    missing = [k for k in ("model_name", "model_version") if aggregate.get(k) in (None, "")]
    if missing:
        raise ValueError(f"aggregate lacks {', '.join(missing)}")
    alias = aggregate.get("alias", aggregate.get("model_alias"))
    return {
        "model_name": str(aggregate["model_name"]),
        "model_version": str(aggregate["model_version"]),
        "model_alias": None if alias in (None, "") else str(alias),
    }


def _window_rows(windows: pd.DataFrame) -> list[dict[str, Any]]:
    missing = [c for c in REQUIRED_WINDOW_COLUMNS if c not in windows.columns]
    if missing:
        raise ValueError(f"windows lack columns: {', '.join(missing[:8])}{' …' if len(missing) > 8 else ''}")
    if windows.empty:
        raise ValueError("a track needs at least one window")
    rows = windows.to_dict("records")
    for i, row in enumerate(rows):
        start, end = _finite(row["start_s"], f"window {i}: start_s"), _finite(row["end_s"], f"window {i}: end_s")
        if not 0 <= start < end:
            raise ValueError(f"window {i}: span [{start}, {end}) is empty or negative")
    return rows


# ------------------------------------------------------------------------------------------------------ writing --
def _claim_track(session: Session, values: dict[str, Any]) -> tuple[int, bool]:
    """Insert the track or find the one with the same content hash; (id, created). Safe against a concurrent save.

    ``INSERT … ON CONFLICT DO NOTHING`` means two workers saving the same file never fail on the unique constraint;
    the existing row is then locked (PostgreSQL) so the rest of the save is not interleaved with the other's.
    """
    table = Track.__table__
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        dialect_insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        stmt = dialect_insert(table).values(**values).on_conflict_do_nothing(index_elements=["content_hash"])
        new_id = session.execute(stmt.returning(table.c.id)).scalar_one_or_none()
        if new_id is not None:
            return int(new_id), True
    found = session.execute(
        select(Track.id).where(Track.content_hash == values["content_hash"]).with_for_update()
    ).scalar_one_or_none()
    if found is not None:
        return int(found), False
    return int(session.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()), True


def _bare_name(path: str) -> bool:
    """A file name without folders (what an upload knows), as opposed to a path (what a batch knows)."""
    return "/" not in path and "\\" not in path


def _layout(rows: list[tuple[float, float, bool]]) -> list[tuple[float, float, bool]]:
    return [(round(s, _LAYOUT_DECIMALS), round(e, _LAYOUT_DECIMALS), bool(p)) for s, e, p in rows]


def _store_windows(session: Session, track_id: int, rows: list[dict[str, Any]]) -> list[int]:
    """Window ids for ``rows`` in order: the existing windows when the layout is unchanged, else new ones."""
    flags = [{"ood": bool(r["ood"]), "ood_features": _ood_text(r["ood_features"])} for r in rows]
    existing = session.execute(
        select(Window.id, Window.start_s, Window.end_s, Window.partial)
        .where(Window.track_id == track_id).order_by(Window.index)
    ).all()
    wanted = _layout([(float(r["start_s"]), float(r["end_s"]), bool(r["partial"])) for r in rows])
    if existing and _layout([(w.start_s, w.end_s, w.partial) for w in existing]) == wanted:
        ids = [w.id for w in existing]
        session.execute(update(Window), [{"id": i, **f} for i, f in zip(ids, flags, strict=True)])
        session.execute(delete(WindowFeatures).where(WindowFeatures.window_id.in_(ids)))
        return ids
    if existing:  # other window settings: replace (features and predictions cascade; feedback is kept)
        session.execute(delete(Window).where(Window.track_id == track_id))
    new = [
        {"track_id": track_id, "index": i, "start_s": s, "end_s": e, "partial": p, **f}
        for i, ((s, e, p), f) in enumerate(zip(wanted, flags, strict=True))
    ]
    result = session.execute(insert(Window).returning(Window.id, sort_by_parameter_order=True), new)
    return [int(i) for i in result.scalars()]


def save_track(
    session: Session,
    *,
    path: str,
    content_hash: str,
    duration_s: float,
    sample_rate: int,
    channels: int,
    windows: pd.DataFrame,
    aggregate: Mapping[str, Any],
) -> int:
    """Store one scored track with its windows, features and per-window predictions; commit; return its id.

    ``windows`` has one row per window: ``start_s, end_s, partial, ood, ood_features``, the 50
    :data:`~mer.schema.FEATURE_NAMES` and the :data:`~mer.decision.DECISION_COLUMNS`. ``aggregate`` has the track's
    DECISION_COLUMNS, ``model_name``, ``model_version`` and optionally ``alias`` and ``aggregate_method`` (default
    ``mean``). Idempotent by ``content_hash`` (see the module docstring). Raises ValueError on malformed input.
    """
    if not content_hash:
        raise ValueError("content_hash is required: it is what makes a re-save idempotent")
    rows = _window_rows(windows)
    model = _model_identity(aggregate)
    track_values = {
        "path": str(path), "content_hash": content_hash, "duration_s": _finite(duration_s, "duration_s"),
        "sample_rate": int(sample_rate), "channels": int(channels),
        "aggregate_method": str(aggregate.get("aggregate_method") or "mean"),
        **{k: _optional_float(aggregate.get(k)) for k in TRACK_SHARE_FIELDS},
        **_verdict(aggregate, model, "aggregate"),
    }
    predictions = [_verdict(r, model, f"window {i}") for i, r in enumerate(rows)]
    try:
        now = utcnow()
        track_id, created = _claim_track(session, {**track_values, "created_at": now, "updated_at": now})
        if not created:
            values = track_values
            if _bare_name(values["path"]) and not _bare_name(
                    session.execute(select(Track.path).where(Track.id == track_id)).scalar_one()):
                values = {k: v for k, v in values.items() if k != "path"}  # keep the full path
            session.execute(update(Track).where(Track.id == track_id).values(**values, updated_at=now))
        window_ids = _store_windows(session, track_id, rows)
        session.execute(insert(WindowFeatures.__table__), [
            {"window_id": wid, **{n: _optional_float(r[n]) for n in FEATURE_NAMES}}
            for wid, r in zip(window_ids, rows, strict=True)
        ])
        session.execute(delete(Prediction).where(
            Prediction.window_id.in_(select(Window.id).where(Window.track_id == track_id)),
            Prediction.model_name == model["model_name"], Prediction.model_version == model["model_version"],
        ))
        session.execute(insert(Prediction), [
            {"window_id": wid, "created_at": now, **p} for wid, p in zip(window_ids, predictions, strict=True)
        ])
        session.commit()
    except BaseException:
        session.rollback()
        raise
    session.expire_all()  # Core statements bypassed the identity map: never serve stale objects afterwards
    return track_id


def add_feedback(session: Session, *, label: str, source: str, track_id: int, window_id: int | None = None) -> int:
    """Record a label for a track (or one of its windows); commit; return the feedback id.

    ``label`` is one of :data:`~mer.schema.CLASSES` (or a synonym :func:`~mer.schema.normalise_label` knows);
    ``source`` says who or what gave it (e.g. ``"web:alice"``) and is required. Raises ValueError for a bad label or
    source, LookupError when the track or window does not exist or the window is not the track's.
    """
    canonical = normalise_label(label)
    if canonical is None:
        raise ValueError(f"label {label!r} is not one of {', '.join(CLASSES)}")
    if not isinstance(source, str) or not source.strip():
        raise ValueError("source is required: say who or what gave this label")
    try:
        if session.get(Track, track_id) is None:
            raise LookupError(f"no track with id {track_id}")
        if window_id is not None:
            owner = session.execute(select(Window.track_id).where(Window.id == window_id)).scalar_one_or_none()
            if owner is None:
                raise LookupError(f"no window with id {window_id}")
            if owner != track_id:
                raise LookupError(f"window {window_id} belongs to track {owner}, not to track {track_id}")
        row = Feedback(track_id=track_id, window_id=window_id, label=canonical, source=source.strip())
        session.add(row)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return row.id


# ------------------------------------------------------------------------------------------------------ reading --
def _verdict_dict(obj: Track | Prediction) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in VERDICT_FIELDS}


def _track_summary(track: Track) -> dict[str, Any]:
    return {**{f: getattr(track, f) for f in TRACK_FIELDS}, **_verdict_dict(track),
            "aggregate_method": track.aggregate_method}


def _prediction_dict(p: Prediction) -> dict[str, Any]:
    return {"id": p.id, **_verdict_dict(p), "created_at": p.created_at}


def _feedback_dict(f: Feedback) -> dict[str, Any]:
    return {"id": f.id, "track_id": f.track_id, "window_id": f.window_id, "label": f.label, "source": f.source,
            "created_at": f.created_at}


def get_track(session: Session, track_id: int, *, with_features: bool = True) -> dict[str, Any] | None:
    """The track, its aggregate verdict, its windows in time order (each with features and every model version's
    prediction, oldest first) and its feedback; None when there is no such track."""
    window_loads = [selectinload(Track.windows).selectinload(Window.predictions)]
    if with_features:
        window_loads.append(selectinload(Track.windows).selectinload(Window.features))
    track = session.get(Track, track_id, options=[*window_loads, selectinload(Track.feedback)], populate_existing=True)
    if track is None:
        return None
    windows = []
    for w in track.windows:
        item: dict[str, Any] = {"id": w.id, "index": w.index, "start_s": w.start_s, "end_s": w.end_s,
                                "partial": w.partial, "ood": w.ood, "ood_features": w.ood_features}
        if with_features:
            item["features"] = w.features.as_dict() if w.features else None
        item["predictions"] = [_prediction_dict(p) for p in w.predictions]
        windows.append(item)
    return {**_track_summary(track), "windows": windows, "feedback": [_feedback_dict(f) for f in track.feedback]}


def _check_page(limit: int, offset: int = 0) -> None:
    if limit < 0 or offset < 0:
        raise ValueError(f"limit ({limit}) and offset ({offset}) must not be negative")


def _check_class(value: str, what: str) -> str:
    if value not in CLASSES:
        raise ValueError(f"{what} {value!r} is not one of {', '.join(CLASSES)}")
    return value


def list_tracks(session: Session, limit: int = 50, offset: int = 0, label: str | None = None) -> list[dict[str, Any]]:
    """A page of tracks (oldest first) with their aggregate verdicts, optionally only those labelled ``label``."""
    _check_page(limit, offset)
    query = select(Track).order_by(Track.id).limit(limit).offset(offset)
    if label is not None:
        query = query.where(Track.label == _check_class(label, "label"))
    return [_track_summary(t) for t in session.scalars(query)]


def count_tracks(session: Session, label: str | None = None) -> int:
    """How many tracks (optionally with aggregate label ``label``): the total behind :func:`list_tracks` pages."""
    query = select(func.count()).select_from(Track)
    if label is not None:
        query = query.where(Track.label == _check_class(label, "label"))
    return int(session.execute(query).scalar_one())


def _not_accepted(verdict) -> Any:
    """Everything a person should look at: ``review`` and ``unscorable`` (NULL confidence sorts first)."""
    return verdict.decision != "accept"


def _track_queue() -> Select[tuple[Track]]:
    labelled = exists().where(Feedback.track_id == Track.id, Feedback.window_id.is_(None))
    return (select(Track).where(_not_accepted(Track), ~labelled)
            .order_by(func.coalesce(Track.confidence, -1.0), Track.id))


def _window_queue() -> Select[tuple[Prediction, Window, str]]:
    latest = select(
        Prediction.id,
        func.row_number().over(partition_by=Prediction.window_id,
                               order_by=(Prediction.created_at.desc(), Prediction.id.desc())).label("rank"),
    ).subquery()
    labelled = exists().where(Feedback.track_id == Window.track_id,
                              (Feedback.window_id == Window.id) | Feedback.window_id.is_(None))
    return (
        select(Prediction, Window, Track.path)
        .join(latest, and_(latest.c.id == Prediction.id, latest.c.rank == 1))
        .join(Window, Window.id == Prediction.window_id)
        .join(Track, Track.id == Window.track_id)
        .where(_not_accepted(Prediction), ~labelled)
        .order_by(func.coalesce(Prediction.confidence, -1.0), Prediction.id)
    )


def _check_level(level: str) -> None:
    if level not in ("track", "window"):
        raise ValueError(f"review level {level!r} is not 'track' or 'window'")


def review_queue(
    session: Session, limit: int = 50, level: Literal["track", "window"] = "track", offset: int = 0
) -> list[dict[str, Any]]:
    """What a person should look at next: items whose latest verdict is not ``accept`` (``review`` and
    ``unscorable``), least confident first (no confidence at all first), a page of ``limit`` from ``offset``.

    ``level="track"`` ranks tracks by their aggregate verdict; ``"window"`` ranks windows by their most recent
    prediction (any model version). Items already labelled through :func:`add_feedback` leave the queue (a
    track-level label also takes its windows out).
    """
    _check_page(limit, offset)
    _check_level(level)
    if level == "track":
        return [{"kind": "track", "track_id": t.id, "path": t.path, **_verdict_dict(t)}
                for t in session.scalars(_track_queue().limit(limit).offset(offset))]
    return [
        {"kind": "window", "track_id": w.track_id, "window_id": w.id, "index": w.index, "start_s": w.start_s,
         "end_s": w.end_s, "path": path, **_verdict_dict(p)}
        for p, w, path in session.execute(_window_queue().limit(limit).offset(offset))
    ]


def count_review(session: Session, level: Literal["track", "window"] = "track") -> int:
    """How many items the review queue holds: the total behind :func:`review_queue` pages."""
    _check_level(level)
    query = _track_queue() if level == "track" else _window_queue()
    return int(session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one())


def _playlist_query(mood: str, min_probability: float) -> Select[tuple[Track]]:
    if not 0.0 <= min_probability <= 1.0:
        raise ValueError(f"min_probability {min_probability} is not in [0, 1]")
    column = getattr(Track, f"p_{_check_class(mood, 'mood')}")
    return select(Track).where(Track.decision != "unscorable", column >= min_probability)


def playlist(session: Session, mood: str, limit: int = 50, offset: int = 0,
             min_probability: float = 0.0) -> list[dict[str, Any]]:
    """The tracks most likely to be ``mood`` (a class of :data:`~mer.schema.CLASSES`), most likely first.

    Unscorable tracks are never in a playlist; ``min_probability`` leaves out tracks less likely than that to be
    ``mood``. Ranked by the track's aggregate probability of that class (ties by id, so the order is stable); a
    page of ``limit`` from ``offset``; each item has ``probability`` besides the track's path, duration and
    verdict.
    """
    _check_page(limit, offset)
    column = getattr(Track, f"p_{_check_class(mood, 'mood')}")
    query = _playlist_query(mood, min_probability).order_by(column.desc(), Track.id).limit(limit).offset(offset)
    return [{"track_id": t.id, "path": t.path, "duration_s": t.duration_s, "probability": getattr(t, f"p_{mood}"),
             "label": t.label, "confidence": t.confidence, "decision": t.decision, "reason": t.reason,
             "valence": t.valence, "arousal": t.arousal}
            for t in session.scalars(query)]


def count_playlist(session: Session, mood: str, min_probability: float = 0.0) -> int:
    """How many tracks :func:`playlist` can list for ``mood`` at ``min_probability``."""
    query = _playlist_query(mood, min_probability)
    return int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())


def known_hashes(session: Session) -> set[str]:
    """Content hashes already in the catalog: batch scoring skips these files."""
    return set(session.scalars(select(Track.content_hash)))
