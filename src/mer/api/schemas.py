"""The API's contract: pydantic models for every request and response, so the OpenAPI schema documents itself.

A feature row has the 50 fields of :data:`mer.schema.FEATURE_NAMES`, under exactly those names (they hold ``-`` and
start with ``_``, so the Python attributes are generated and the JSON names are aliases). Values must be JSON
numbers and finite: a string, ``NaN`` or ``Infinity`` is a 422 naming the row and the field, never a silent
coercion. Chromagram values must not be negative — they are energy shares, and the model's key features are
undefined for negative ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, create_model

from mer.api.config import MAX_ROWS_PER_REQUEST
from mer.decision import DECISIONS
from mer.schema import CLASSES, FEATURE_NAMES, FEATURES

Label = Literal["happy", "sad", "angry", "relax"]
Decision = Literal["accept", "review", "unscorable"]
assert tuple(Label.__args__) == CLASSES  # type: ignore[attr-defined]
assert tuple(Decision.__args__) == DECISIONS  # type: ignore[attr-defined]
Affect = Annotated[float, Field(ge=-1.0, le=1.0)]

FiniteFloat = Annotated[StrictFloat, Field(allow_inf_nan=False)]


def attribute_name(feature: str) -> str:
    """A Python identifier for a feature name (``_Zero-crossingrate_Mean`` → ``zero_crossingrate_mean``)."""
    return feature.strip("_").replace("-", "_").lower()


def _feature_field(feature) -> tuple[type, object]:
    bounds = {"ge": 0.0} if feature.source == "mirchromagram" else {}
    return (FiniteFloat, Field(alias=feature.name, **bounds,
                               description=f"{feature.unit}; {feature.source}; UCI range "
                                           f"[{feature.low:g}, {feature.high:g}]"))


FeatureRow = create_model(  # type: ignore[call-overload]
    "FeatureRow",
    __config__=ConfigDict(extra="forbid", populate_by_name=False,
                          json_schema_extra={"description": "The 50 features of one clip, named as in the UCI "
                                                            "Turkish Music Emotion file."}),
    **{attribute_name(f.name): _feature_field(f) for f in FEATURES},
)
FEATURE_ATTRIBUTES: tuple[str, ...] = tuple(attribute_name(n) for n in FEATURE_NAMES)
assert len(set(FEATURE_ATTRIBUTES)) == len(FEATURE_NAMES)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PredictRequest(Strict):
    rows: list[FeatureRow] = Field(min_length=1, max_length=MAX_ROWS_PER_REQUEST,  # type: ignore[valid-type]
                                   description=f"1 to {MAX_ROWS_PER_REQUEST} feature rows")


class Probabilities(BaseModel):
    happy: float
    sad: float
    angry: float
    relax: float


class Verdict(BaseModel):
    """The decision rule's output (:func:`mer.decision.decide`) for one clip, window or track."""

    probabilities: Probabilities | None = Field(
        description="calibrated; null only when the model gave no finite probabilities (then unscorable)")
    label: Label | None
    confidence: float | None
    decision: Decision = Field(description="unscorable when the input is outside what the model can judge "
                                           "(silence, a steady tone, noise, values beyond the training data's "
                                           "range); else accept when confidence reaches the threshold, else review")
    reason: str = Field(description="why, in a few words: 'confidence 0.49 < 0.75', 'noise-like spectrum: "
                                    "spectral flatness far above any training clip (0.85 > 0.21)'")
    top2: list[Label] = Field(max_length=2, description="most probable class first (empty without probabilities)")
    valence: Affect | None = Field(description="(p_happy + p_relax) - (p_angry + p_sad), in [-1, 1]")
    arousal: Affect | None = Field(description="(p_happy + p_angry) - (p_sad + p_relax), in [-1, 1]")


class Contribution(BaseModel):
    feature: str = Field(description="the feature's name in the schema (UCI column)")
    plain: str = Field(description="the feature in plain words")
    value: float = Field(description="the feature's value in this row")
    contribution: float = Field(description="SHAP value: its share of (probability - base_value)")


class Explanation(BaseModel):
    """Why this label: SHAP values of the whole pipeline for the predicted class (:mod:`mer.model.explain`)."""

    label: Label = Field(alias="class", description="the class explained (the predicted label)")
    probability: float = Field(description="the class's probability = base_value + sum of contributions")
    base_value: float = Field(description="the class's mean probability over the fixed background of training "
                                          "clips (one per mood)")
    contributions: list[Contribution] = Field(description="all 50 features, largest magnitude first")

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class RowPrediction(Verdict):
    row: int = Field(description="index of the row in the request")
    ood: bool = Field(description="some feature lies outside the range the model was trained on")
    ood_features: list[str]
    explanation: Explanation | None = Field(default=None, description="only with ?explain=true; null when "
                                                                      "unscorable")


class ModelInfo(BaseModel):
    name: str
    version: str
    alias: str


class PredictResponse(BaseModel):
    model: ModelInfo
    threshold: float = Field(description="accept threshold applied")
    predictions: list[RowPrediction]


class WindowVerdict(Verdict):
    window_id: int = Field(description="the window's catalog id: POST /v1/feedback takes it with the track_id")
    start_s: float
    end_s: float
    partial: bool = Field(description="the last window, shorter than the window length")
    ood: bool = Field(description="some feature lies outside the range the model was trained on")
    ood_features: list[str]
    explanation: Explanation | None = Field(default=None, description="only with ?explain=true; null when "
                                                                      "unscorable")


class MoodShares(BaseModel):
    """Each mood's share of the scorable time (window durations by window label); they sum to 1 (0 if none)."""

    happy: float
    sad: float
    angry: float
    relax: float


class TrackVerdict(Verdict):
    shares: MoodShares
    scorable_share: float = Field(description="share of the track's time the model can judge")
    n_windows: int


class AudioPrediction(BaseModel):
    track_id: int = Field(description="the catalog id the track is stored under")
    file: str
    content_hash: str
    duration_s: float
    sample_rate: int
    channels: int
    model: ModelInfo
    threshold: float
    aggregate_method: Literal["mean", "vote"]
    track: TrackVerdict = Field(description="the scorable windows aggregated, with each mood's share of the time")
    ood: bool = Field(description="any window is out of distribution")
    windows: list[WindowVerdict]


class StoredVerdict(BaseModel):
    """A decision as the catalog stores it: probabilities, label, confidence, decision, top-2 and the model."""

    p_happy: float | None
    p_sad: float | None
    p_angry: float | None
    p_relax: float | None
    label: Label | None
    confidence: float | None
    decision: Decision
    reason: str | None = Field(description="null only for verdicts stored before reasons existed")
    top2: str | None
    valence: float | None
    arousal: float | None
    model_name: str
    model_version: str
    model_alias: str | None


class TrackSummary(StoredVerdict):
    id: int
    path: str
    content_hash: str
    duration_s: float
    sample_rate: int
    channels: int
    created_at: datetime
    updated_at: datetime
    aggregate_method: str
    share_happy: float | None = Field(description="share of the scorable time labelled happy (null: stored "
                                                  "before shares existed)")
    share_sad: float | None
    share_angry: float | None
    share_relax: float | None
    scorable_share: float | None


class TrackPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[TrackSummary]


class StoredPrediction(StoredVerdict):
    id: int
    created_at: datetime


class StoredWindow(BaseModel):
    id: int
    index: int
    start_s: float
    end_s: float
    partial: bool
    ood: bool
    ood_features: str | None
    features: dict[str, float | None] | None
    predictions: list[StoredPrediction]


class StoredFeedback(BaseModel):
    id: int
    track_id: int
    window_id: int | None
    label: Label
    source: str
    created_at: datetime


class TrackDetail(TrackSummary):
    windows: list[StoredWindow]
    feedback: list[StoredFeedback]


class ReviewItem(StoredVerdict):
    kind: Literal["track", "window"]
    track_id: int
    window_id: int | None = None
    index: int | None = None
    start_s: float | None = None
    end_s: float | None = None
    path: str


class ReviewPage(BaseModel):
    total: int
    limit: int
    offset: int
    level: Literal["track", "window"]
    items: list[ReviewItem]


class PlaylistItem(BaseModel):
    track_id: int
    path: str
    duration_s: float
    probability: float
    label: Label
    confidence: float
    decision: Decision
    reason: str | None
    valence: float | None
    arousal: float | None


class Playlist(BaseModel):
    mood: Label
    min_probability: float
    total: int
    limit: int
    offset: int
    items: list[PlaylistItem]


class FeedbackIn(Strict):
    track_id: int = Field(ge=1, le=2**63 - 1)
    window_id: int | None = Field(None, ge=1, le=2**63 - 1, description="omit for a label of the whole track")
    label: str = Field(min_length=1, max_length=40,
                       description=f"one of {', '.join(CLASSES)} (common synonyms such as 'calm' are accepted)")
    source: str = Field(min_length=1, max_length=200, pattern=r"\S", description="who or what gave the label")


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    ready: bool
    model: ModelInfo | None = None
    compiled: bool | None = Field(None, description="served by the verified compiled prediction path")
    reason: str | None = None


class Problem(BaseModel):
    """Every 4xx/5xx body: ``detail`` says why; validation errors also list each problem with its location."""

    detail: str
    errors: list[dict] | None = None
