"""The catalog's tables: tracks, their 30-s windows, each window's 50 features and predictions, human feedback.

Design notes (the migration in ``migrations/versions`` creates exactly these; a test compares the two):

* **Features are 50 float columns**, named exactly as :data:`mer.schema.FEATURE_NAMES`, not one JSON blob. The set is
  fixed by the schema (changing it is a model change, so a migration is the right ceremony); typed columns let SQL
  compute per-feature statistics for drift monitoring the same way on SQLite and PostgreSQL, take 8 bytes per value
  instead of ~20 of text, and reject non-numbers. NaN is stored as NULL (JSON could not hold it either).
* **A track holds its latest aggregate verdict** (``p_*``, label, confidence, decision, top2, model) so that listing,
  playlists and the track review queue are single indexed queries; every model version's per-window scores stay in
  ``predictions`` (unique per window, model name and version).
* Deleting a track cascades to everything under it. Feedback on a window that is later replaced keeps its label at
  track level (``window_id`` is set NULL) — human labels are the expensive data and are never dropped silently.
* Times are timezone-aware UTC on both back ends (:class:`UTCDateTime`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from mer.decision import DECISIONS, PROBA_COLUMNS
from mer.schema import CLASSES, FEATURE_NAMES

# Deterministic constraint names: PostgreSQL needs them to drop or alter constraints in later migrations.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


LABEL_CHECK = _in("label", CLASSES)
DECISION_CHECK = _in("decision", DECISIONS)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime everywhere: SQLite drops the offset on write, so it is re-attached on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the catalog stores aware UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def _created_at() -> Mapped[datetime]:
    return mapped_column(default=utcnow, server_default=func.current_timestamp())


class DecisionColumns:
    """The :data:`mer.decision.DECISION_COLUMNS` of one verdict, shared by tracks (aggregate) and predictions.

    Probabilities, label, confidence, top-2, valence and arousal are NULL only for an ``unscorable`` verdict whose
    model gave no finite probabilities; ``reason`` is NULL only on rows written before revision 0002."""

    p_happy: Mapped[float | None] = mapped_column(Float)
    p_sad: Mapped[float | None] = mapped_column(Float)
    p_angry: Mapped[float | None] = mapped_column(Float)
    p_relax: Mapped[float | None] = mapped_column(Float)
    label: Mapped[str | None] = mapped_column(String(16))
    confidence: Mapped[float | None] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    top2: Mapped[str | None] = mapped_column(String(40))
    valence: Mapped[float | None] = mapped_column(Float)
    arousal: Mapped[float | None] = mapped_column(Float)
    model_name: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(64))
    model_alias: Mapped[str | None] = mapped_column(String(64))


class Track(DecisionColumns, Base):
    """One audio file, identified by its content hash, with the aggregate verdict of its latest scoring."""

    __tablename__ = "tracks"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(128), unique=True)
    duration_s: Mapped[float] = mapped_column(Float)
    sample_rate: Mapped[int]
    channels: Mapped[int]
    aggregate_method: Mapped[str] = mapped_column(String(16))
    # each mood's share of the track's scorable time, and the share of the time that is scorable (NULL before 0002)
    share_happy: Mapped[float | None] = mapped_column(Float)
    share_sad: Mapped[float | None] = mapped_column(Float)
    share_angry: Mapped[float | None] = mapped_column(Float)
    share_relax: Mapped[float | None] = mapped_column(Float)
    scorable_share: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()

    windows: Mapped[list[Window]] = relationship(
        back_populates="track", cascade="all, delete-orphan", passive_deletes=True, order_by="Window.index"
    )
    feedback: Mapped[list[Feedback]] = relationship(
        back_populates="track", cascade="all, delete-orphan", passive_deletes=True, order_by="Feedback.id"
    )

    __table_args__ = (
        CheckConstraint(LABEL_CHECK, name="label_class"),
        CheckConstraint(DECISION_CHECK, name="decision_kind"),
        CheckConstraint("duration_s >= 0 AND sample_rate > 0 AND channels > 0", name="audio_shape"),
        Index(None, "decision", "confidence"),  # the review queue: review tracks, least confident first
        Index(None, "label"),
        *(Index(None, p) for p in PROBA_COLUMNS),  # playlists: top-N by one class's probability
    )


class Window(Base):
    """A 30-s window of a track (the last one may be ``partial``), with the out-of-distribution guard's verdict."""

    __tablename__ = "windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    index: Mapped[int]
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    partial: Mapped[bool]
    ood: Mapped[bool]
    ood_features: Mapped[str | None] = mapped_column(Text)

    track: Mapped[Track] = relationship(back_populates="windows")
    features: Mapped[WindowFeatures | None] = relationship(
        back_populates="window", cascade="all, delete-orphan", passive_deletes=True
    )
    predictions: Mapped[list[Prediction]] = relationship(
        back_populates="window", cascade="all, delete-orphan", passive_deletes=True, order_by="Prediction.id"
    )

    __table_args__ = (
        UniqueConstraint("track_id", "index"),  # also serves lookups by track
        CheckConstraint("end_s > start_s AND start_s >= 0", name="span"),
    )


class WindowFeatures(Base):
    """The 50 MIRtoolbox-compatible features of one window, one column per :data:`mer.schema.FEATURE_NAMES`.

    The feature columns are attached below the class (their names, such as ``_Zero-crossingrate_Mean``, are not
    Python identifiers): read them with :meth:`as_dict`.
    """

    __tablename__ = "features"

    window_id: Mapped[int] = mapped_column(ForeignKey("windows.id", ondelete="CASCADE"), primary_key=True)
    window: Mapped[Window] = relationship(back_populates="features")

    def as_dict(self) -> dict[str, float | None]:
        return {name: getattr(self, name) for name in FEATURE_NAMES}


for _name in FEATURE_NAMES:
    setattr(WindowFeatures, _name, mapped_column(_name, Float, nullable=True))


class Prediction(DecisionColumns, Base):
    """One model version's verdict on one window; several versions may score the same window."""

    __tablename__ = "predictions"

    id: Mapped[int] = mapped_column(primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("windows.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = _created_at()

    window: Mapped[Window] = relationship(back_populates="predictions")

    __table_args__ = (
        UniqueConstraint("window_id", "model_name", "model_version"),
        CheckConstraint(LABEL_CHECK, name="label_class"),
        CheckConstraint(DECISION_CHECK, name="decision_kind"),
        Index(None, "window_id", "created_at"),  # the latest verdict per window
    )


class Feedback(Base):
    """A person's (or a tool's) label for a track, or for one of its windows."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), index=True)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id", ondelete="SET NULL"), index=True)
    label: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _created_at()

    track: Mapped[Track] = relationship(back_populates="feedback")

    __table_args__ = (
        CheckConstraint(LABEL_CHECK, name="label_class"),
        CheckConstraint("length(source) > 0", name="source_given"),
    )


def row_dict(obj: Any, columns: tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of an ORM object as a plain dict (what the store hands to the API)."""
    return {c: getattr(obj, c) for c in columns}
