"""Initial catalog: tracks, windows, features (50 columns), predictions, feedback.

Revision ID: 0001_initial
Revises:
Create Date: 2025-01-01

The feature names are frozen here as they were when this revision was written (mer.schema.FEATURE_NAMES); a change
of the feature set needs a new revision, and tests/catalog checks that models and migrations agree.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLASSES = ("happy", "sad", "angry", "relax")
LABEL_CHECK = "label IN ('happy', 'sad', 'angry', 'relax')"
DECISION_CHECK = "decision IN ('accept', 'review')"
FEATURE_NAMES = (
    '_RMSenergy_Mean',
    '_Lowenergy_Mean',
    '_Fluctuation_Mean',
    '_Tempo_Mean',
    '_MFCC_Mean_1',
    '_MFCC_Mean_2',
    '_MFCC_Mean_3',
    '_MFCC_Mean_4',
    '_MFCC_Mean_5',
    '_MFCC_Mean_6',
    '_MFCC_Mean_7',
    '_MFCC_Mean_8',
    '_MFCC_Mean_9',
    '_MFCC_Mean_10',
    '_MFCC_Mean_11',
    '_MFCC_Mean_12',
    '_MFCC_Mean_13',
    '_Roughness_Mean',
    '_Roughness_Slope',
    '_Zero-crossingrate_Mean',
    '_AttackTime_Mean',
    '_AttackTime_Slope',
    '_Rolloff_Mean',
    '_Eventdensity_Mean',
    '_Pulseclarity_Mean',
    '_Brightness_Mean',
    '_Spectralcentroid_Mean',
    '_Spectralspread_Mean',
    '_Spectralskewness_Mean',
    '_Spectralkurtosis_Mean',
    '_Spectralflatness_Mean',
    '_EntropyofSpectrum_Mean',
    '_Chromagram_Mean_1',
    '_Chromagram_Mean_2',
    '_Chromagram_Mean_3',
    '_Chromagram_Mean_4',
    '_Chromagram_Mean_5',
    '_Chromagram_Mean_6',
    '_Chromagram_Mean_7',
    '_Chromagram_Mean_8',
    '_Chromagram_Mean_9',
    '_Chromagram_Mean_10',
    '_Chromagram_Mean_11',
    '_Chromagram_Mean_12',
    '_HarmonicChangeDetectionFunction_Mean',
    '_HarmonicChangeDetectionFunction_Std',
    '_HarmonicChangeDetectionFunction_Slope',
    '_HarmonicChangeDetectionFunction_PeriodFreq',
    '_HarmonicChangeDetectionFunction_PeriodAmp',
    '_HarmonicChangeDetectionFunction_PeriodEntropy',
)


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


def upgrade() -> None:
    op.create_table(
        "tracks",
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
        sa.CheckConstraint(DECISION_CHECK, name="ck_tracks_decision_kind"),
        sa.CheckConstraint("duration_s >= 0 AND sample_rate > 0 AND channels > 0", name="ck_tracks_audio_shape"),
    )
    op.create_index("ix_tracks_decision_confidence", "tracks", ["decision", "confidence"])
    op.create_index("ix_tracks_label", "tracks", ["label"])
    for c in CLASSES:
        op.create_index(f"ix_tracks_p_{c}", "tracks", [f"p_{c}"])

    op.create_table(
        "windows",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("ood", sa.Boolean(), nullable=False),
        sa.Column("ood_features", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_windows"),
        sa.ForeignKeyConstraint(["track_id"], ["tracks.id"], name="fk_windows_track_id_tracks", ondelete="CASCADE"),
        sa.UniqueConstraint("track_id", "index", name="uq_windows_track_id_index"),
        sa.CheckConstraint("end_s > start_s AND start_s >= 0", name="ck_windows_span"),
    )

    op.create_table(
        "features",
        sa.Column("window_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Float(), nullable=True) for name in FEATURE_NAMES),
        sa.PrimaryKeyConstraint("window_id", name="pk_features"),
        sa.ForeignKeyConstraint(["window_id"], ["windows.id"], name="fk_features_window_id_windows",
                                ondelete="CASCADE"),
    )

    op.create_table(
        "predictions",
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
        sa.CheckConstraint(DECISION_CHECK, name="ck_predictions_decision_kind"),
    )
    op.create_index("ix_predictions_window_id_created_at", "predictions", ["window_id", "created_at"])

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
        sa.ForeignKeyConstraint(["track_id"], ["tracks.id"], name="fk_feedback_track_id_tracks", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["window_id"], ["windows.id"], name="fk_feedback_window_id_windows",
                                ondelete="SET NULL"),
        sa.CheckConstraint(LABEL_CHECK, name="ck_feedback_label_class"),
        sa.CheckConstraint("length(source) > 0", name="ck_feedback_source_given"),
    )
    op.create_index("ix_feedback_track_id", "feedback", ["track_id"])
    op.create_index("ix_feedback_window_id", "feedback", ["window_id"])


def downgrade() -> None:
    for table in ("feedback", "predictions", "features", "windows", "tracks"):
        op.drop_table(table)
