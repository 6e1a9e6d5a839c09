"""Verdicts that know their limits: ``unscorable`` decisions with a reason, valence/arousal, mood shares per track.

Revision ID: 0002_verdicts
Revises: 0001_initial
Create Date: 2026-12-04

* ``tracks`` and ``predictions``: new columns ``reason`` (text), ``valence``, ``arousal``; ``decision`` widened to
  16 characters and its check allows ``unscorable``; probabilities, label, confidence and top-2 become nullable
  (an unscorable verdict whose model gave no finite probabilities has none).
* ``tracks``: ``share_happy``, ``share_sad``, ``share_angry``, ``share_relax`` (each mood's share of the scorable
  time) and ``scorable_share``.

SQLite cannot alter a column or a check in place: Alembic's batch mode copies the table (``copy_from`` gives the
0001 definition, so named constraints and indexes survive); :func:`mer.catalog.migrate.init_db` switches SQLite's
foreign keys off around the migration so dropping the old table cascades nothing. PostgreSQL gets plain ALTERs.
Existing rows keep their verdicts; their new columns stay NULL until they are scored again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_verdicts"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLASSES = ("happy", "sad", "angry", "relax")
LABEL_CHECK = "label IN ('happy', 'sad', 'angry', 'relax')"
OLD_DECISION_CHECK = "decision IN ('accept', 'review')"
NEW_DECISION_CHECK = "decision IN ('accept', 'review', 'unscorable')"
NULLABLE = (*(f"p_{c}" for c in CLASSES), "label", "confidence", "top2")


def _now() -> sa.TextClause:
    return sa.text("CURRENT_TIMESTAMP")


def _decision_columns() -> list[sa.Column]:
    return [
        *(sa.Column(f"p_{c}", sa.Float(), nullable=False) for c in CLASSES),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("top2", sa.String(40), nullable=False),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("model_alias", sa.String(64), nullable=True),
    ]


def _old_tracks(meta: sa.MetaData, decision_check: str) -> sa.Table:
    return sa.Table(
        "tracks", meta,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("sample_rate", sa.Integer(), nullable=False),
        sa.Column("channels", sa.Integer(), nullable=False),
        sa.Column("aggregate_method", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        *_decision_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_tracks"),
        sa.UniqueConstraint("content_hash", name="uq_tracks_content_hash"),
        sa.CheckConstraint(LABEL_CHECK, name="ck_tracks_label_class"),
        sa.CheckConstraint(decision_check, name="ck_tracks_decision_kind"),
        sa.CheckConstraint("duration_s >= 0 AND sample_rate > 0 AND channels > 0", name="ck_tracks_audio_shape"),
        sa.Index("ix_tracks_decision_confidence", "decision", "confidence"),
        sa.Index("ix_tracks_label", "label"),
        *(sa.Index(f"ix_tracks_p_{c}", f"p_{c}") for c in CLASSES),
    )


def _old_predictions(meta: sa.MetaData, decision_check: str) -> sa.Table:
    sa.Table("windows", meta, sa.Column("id", sa.Integer(), primary_key=True))  # the foreign key's target
    return sa.Table(
        "predictions", meta,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        *_decision_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_predictions"),
        sa.ForeignKeyConstraint(["window_id"], ["windows.id"], name="fk_predictions_window_id_windows",
                                ondelete="CASCADE"),
        sa.UniqueConstraint("window_id", "model_name", "model_version",
                            name="uq_predictions_window_id_model_name_model_version"),
        sa.CheckConstraint(LABEL_CHECK, name="ck_predictions_label_class"),
        sa.CheckConstraint(decision_check, name="ck_predictions_decision_kind"),
        sa.Index("ix_predictions_window_id_created_at", "window_id", "created_at"),
    )


def _decision_check_name(table: str) -> str:
    """The decision check's name as the database has it (0001's names went through the naming convention on some
    back ends and not on others; SQLite's copy keeps the name given in ``copy_from``)."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        return f"ck_{table}_decision_kind"
    for check in sa.inspect(bind).get_check_constraints(table):
        if "decision" in (check.get("sqltext") or "") and check.get("name"):
            return check["name"]
    raise RuntimeError(f"{table}: no check constraint on decision found")


def upgrade() -> None:
    for table, old in (("tracks", _old_tracks), ("predictions", _old_predictions)):
        name = _decision_check_name(table)
        with op.batch_alter_table(table, copy_from=old(sa.MetaData(), OLD_DECISION_CHECK)) as batch:
            batch.drop_constraint(op.f(name), type_="check")
            batch.alter_column("decision", existing_type=sa.String(8), type_=sa.String(16), existing_nullable=False)
            for name in NULLABLE:
                batch.alter_column(name, existing_type=sa.String(40) if name == "top2" else
                                   sa.String(16) if name == "label" else sa.Float(), nullable=True)
            batch.add_column(sa.Column("reason", sa.Text(), nullable=True))
            batch.add_column(sa.Column("valence", sa.Float(), nullable=True))
            batch.add_column(sa.Column("arousal", sa.Float(), nullable=True))
            if table == "tracks":
                for c in CLASSES:
                    batch.add_column(sa.Column(f"share_{c}", sa.Float(), nullable=True))
                batch.add_column(sa.Column("scorable_share", sa.Float(), nullable=True))
            batch.create_check_constraint(op.f(f"ck_{table}_decision_kind"), NEW_DECISION_CHECK)


def downgrade() -> None:
    for table in ("tracks", "predictions"):
        op.execute(sa.text(f"DELETE FROM {table} WHERE decision = 'unscorable'"))
    for table in ("tracks", "predictions"):
        name = _decision_check_name(table)
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(name), type_="check")
            for name in ("reason", "valence", "arousal",
                         *((*(f"share_{c}" for c in CLASSES), "scorable_share") if table == "tracks" else ())):
                batch.drop_column(name)
            batch.alter_column("decision", existing_type=sa.String(16), type_=sa.String(8), existing_nullable=False)
            batch.create_check_constraint(op.f(f"ck_{table}_decision_kind"), OLD_DECISION_CHECK)
