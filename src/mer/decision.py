"""Probabilities → verdict (accept / review / unscorable, with a reason), top-2, valence and arousal; windows → track.

The one place the decision rule lives: every door (CLI, API, batch) reaches it through :mod:`mer.scoring`, configured
by the ``decision`` section of ``params.yaml`` (:class:`mer.settings.DecisionSettings`).

Rows and windows
    ``unscorable`` when the caller says the input is outside what the model can judge (the out-of-distribution guard
    of :mod:`mer.features.ood`: silence, steady tones, noise, values beyond the training data's range, missing
    features) or when the model gives no finite probabilities; otherwise ``accept`` when the top probability reaches
    ``accept_threshold``, else ``review`` with the top two classes. Every verdict has a short ``reason``.

Valence and arousal
    The four classes are the quadrants of Russell's circumplex — happy (+valence, +arousal), angry (−, +), sad (−, −),
    relax (+, −) — so with the calibrated probabilities

        valence = (p_happy + p_relax) − (p_angry + p_sad)
        arousal = (p_happy + p_angry) − (p_sad + p_relax)

    both in [−1, 1]: the expected quadrant coordinate under the model's belief (±1 only when one side is certain).

Tracks (:func:`track_decision`)
    Only scorable windows count. ``shares`` is each mood's share of the scorable time (window durations, by window
    label). The track's probabilities are the duration-weighted mean of its scorable windows (or the ``vote``).

    * ``unscorable`` when less than ``track_min_scorable`` (50 %) of the time can be judged;
    * ``accept`` when the mean's confidence reaches the threshold (as for one clip), or — the rule for long tracks,
      whose mean over an intro, a verse and a climax is rarely confident — when windows *accepted on their own*
      with the mean's label cover at least ``track_min_share`` (50 %) of the scorable time and windows accepted
      with any other one mood cover less than ``track_max_other`` (25 %): most of the track is confidently that
      mood and no other mood is confidently a real part of it;
    * ``review`` otherwise, the reason naming the mix ("mixed: angry 45 %, sad 40 %, relax 15 % of the time").

    Uncertain windows count towards the shares reported but never make a track accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mer.schema import CLASSES

if TYPE_CHECKING:
    from mer.settings import DecisionSettings

DECISIONS: tuple[str, ...] = ("accept", "review", "unscorable")
PROBA_COLUMNS: tuple[str, ...] = tuple(f"p_{c}" for c in CLASSES)
SHARE_COLUMNS: tuple[str, ...] = tuple(f"share_{c}" for c in CLASSES)
AFFECT_COLUMNS: tuple[str, ...] = ("valence", "arousal")
DECISION_COLUMNS: tuple[str, ...] = (*PROBA_COLUMNS, "label", "confidence", "decision", "reason", "top2",
                                     *AFFECT_COLUMNS)
# Russell quadrant of each class (valence, arousal), in CLASSES order
QUADRANTS: dict[str, tuple[int, int]] = {"happy": (1, 1), "sad": (-1, -1), "angry": (-1, 1), "relax": (1, -1)}
_VA = np.array([QUADRANTS[c] for c in CLASSES], dtype=float)  # (4, 2)
NOT_FINITE = "the model gave no finite probabilities for this input"


def to_schema_order(proba: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """Reorder probability columns from a model's ``classes_`` order to :data:`mer.schema.CLASSES` order."""
    proba = np.asarray(proba, dtype=float)
    if proba.ndim != 2 or proba.shape[1] != len(classes):
        raise ValueError(f"probabilities of shape {proba.shape} do not match {len(classes)} classes")
    missing = set(CLASSES) - set(classes)
    if missing:
        raise ValueError(f"model lacks classes {sorted(missing)}")
    order = [list(classes).index(c) for c in CLASSES]
    return proba[:, order]


def valence_arousal(proba: np.ndarray) -> np.ndarray:
    """(n, 2) valence and arousal in [−1, 1] from schema-ordered probabilities (formula in the module docstring)."""
    return np.asarray(proba, dtype=float) @ _VA


def decide_columns(
    proba: np.ndarray,
    classes: Sequence[str] = CLASSES,
    *,
    threshold: float,
    unscorable: Sequence[str | None] | None = None,
) -> dict[str, np.ndarray]:
    """:func:`decide` as plain arrays, one per :data:`DECISION_COLUMNS` (no DataFrame: the API's fast path)."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"accept threshold {threshold} is not in [0, 1]")
    p = to_schema_order(proba, classes)
    n = len(p)
    finite = np.isfinite(p).all(axis=1)
    p = np.where(finite[:, None], p, np.nan)
    safe = np.where(finite[:, None], p, 0.0)
    ranked = np.argsort(-safe, axis=1, kind="stable")
    names = np.asarray(CLASSES, dtype=object)
    rows = np.arange(n)
    confidence = np.where(finite, safe[rows, ranked[:, 0]], np.nan)
    second = safe[rows, ranked[:, 1]]
    decision = np.where(confidence >= threshold, "accept", "review").astype(object)
    reasons = np.empty(n, dtype=object)
    for i, (c, d, r, s2) in enumerate(zip(confidence.tolist(), decision, ranked.tolist(), second.tolist(),
                                          strict=True)):
        reasons[i] = (f"confidence {c:.2f} >= {threshold:.2f}" if d == "accept"
                      else f"confidence {c:.2f} < {threshold:.2f} ({names[r[0]]} {c:.2f}, {names[r[1]]} {s2:.2f})")
    decision[~finite] = "unscorable"
    reasons[~finite] = NOT_FINITE
    if unscorable is not None:  # the caller's reason comes first: it says why the model could not be trusted
        given = np.array([bool(u) for u in unscorable], dtype=bool)
        if len(given) != n:
            raise ValueError(f"{len(given)} unscorable reasons for {n} rows")
        decision[given] = "unscorable"
        reasons[given] = np.asarray(unscorable, dtype=object)[given]
    va = valence_arousal(p)
    top2 = np.array([f"{names[a]}|{names[b]}" if ok else "" for (a, b), ok in
                     zip(ranked[:, :2].tolist(), finite.tolist(), strict=True)], dtype=object)
    return {
        **{col: p[:, j] for j, col in enumerate(PROBA_COLUMNS)},
        "label": np.where(finite, names[ranked[:, 0]], None) if n else np.zeros(0, dtype=object),
        "confidence": confidence, "decision": decision, "reason": reasons, "top2": top2,
        "valence": va[:, 0], "arousal": va[:, 1],
    }


def decide(
    proba: np.ndarray,
    classes: Sequence[str] = CLASSES,
    *,
    threshold: float,
    unscorable: Sequence[str | None] | None = None,
) -> pd.DataFrame:
    """One row per clip: the :data:`DECISION_COLUMNS`.

    ``unscorable`` (optional, one entry per row) holds the reason a row cannot be judged, or None/"" when it can.
    A row whose probabilities are not all finite is unscorable whatever the caller says (the check every door
    shares). ``top2`` is ``"first|second"`` (most probable first), empty when there are no probabilities.
    """
    return pd.DataFrame(decide_columns(proba, classes, threshold=threshold, unscorable=unscorable),
                        columns=list(DECISION_COLUMNS))


def aggregate(window_proba: np.ndarray, method: str, weights: np.ndarray | None = None) -> np.ndarray:
    """One probability vector for a track from its windows' (schema-ordered) probabilities.

    ``mean`` averages the probabilities, weighted by ``weights`` (the windows' durations) when given — it keeps
    calibration meaningful; ``vote`` gives each class the (weighted) share of windows whose label it is, ties broken
    by the mean probability.
    """
    p = np.asarray(window_proba, dtype=float)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError("aggregation needs at least one window of probabilities")
    w = np.ones(len(p)) if weights is None else np.asarray(weights, dtype=float)
    if len(p) == 1 and method == "mean":
        return p[0].copy()  # one window: the track is that window, bit for bit
    if method == "mean":
        return (p * w[:, None]).sum(axis=0) / w.sum()
    if method == "vote":
        votes = np.bincount(p.argmax(axis=1), weights=w, minlength=p.shape[1]) + 1e-6 * p.mean(axis=0)
        return votes / votes.sum()
    raise ValueError(f"unknown aggregation {method!r}; choose 'mean' or 'vote'")


def mood_shares(labels: Sequence[str], durations: np.ndarray) -> dict[str, float]:
    """Each class's share of the given time (window durations by window label), in CLASSES order; zeros if none."""
    d = np.asarray(durations, dtype=float)
    total = float(d.sum())
    lab = np.asarray(labels, dtype=object)
    return {c: (float(d[lab == c].sum()) / total if total > 0 else 0.0) for c in CLASSES}


def _mix(shares: dict[str, float]) -> str:
    parts = [f"{c} {s:.0%}" for c, s in sorted(shares.items(), key=lambda kv: -kv[1]) if s > 0]
    return ", ".join(parts)


def track_decision(windows: pd.DataFrame, rule: DecisionSettings) -> dict:
    """The track verdict from its scored windows (``start_s``, ``end_s`` and the :data:`DECISION_COLUMNS`).

    Returns the DECISION_COLUMNS for the track plus ``share_<class>`` (share of the scorable time per mood),
    ``scorable_share`` (share of the whole time that is scorable) and ``n_windows``. The rule is documented in the
    module docstring.
    """
    if windows.empty:
        raise ValueError("a track verdict needs at least one window")
    durations = (windows["end_s"].to_numpy(dtype=float) - windows["start_s"].to_numpy(dtype=float)).clip(min=0)
    if durations.sum() <= 0:
        durations = np.ones(len(windows))
    ok = (windows["decision"] != "unscorable").to_numpy()
    scorable_share = float(durations[ok].sum() / durations.sum())
    shares = mood_shares(windows["label"][ok].tolist(), durations[ok])
    extra = {**{f"share_{c}": shares[c] for c in CLASSES}, "scorable_share": scorable_share,
             "n_windows": len(windows)}
    threshold = rule.accept_threshold
    if not ok.any() or scorable_share < rule.track_min_scorable:
        reasons = windows.loc[~ok, "reason"].astype(str).value_counts()
        if ok.any():
            proba = aggregate(windows.loc[ok, list(PROBA_COLUMNS)].to_numpy(float), rule.aggregate, durations[ok])
        else:
            proba = aggregate(windows[list(PROBA_COLUMNS)].fillna(np.nan).to_numpy(float), "mean", durations)
        verdict = decide(proba[None, :], threshold=threshold, unscorable=[
            f"only {scorable_share:.0%} of the time can be judged (< {rule.track_min_scorable:.0%}); "
            f"{reasons.index[0]}"])
        return {**verdict.iloc[0].to_dict(), **extra}
    proba = aggregate(windows.loc[ok, list(PROBA_COLUMNS)].to_numpy(float), rule.aggregate, durations[ok])
    verdict = decide(proba[None, :], threshold=threshold).iloc[0].to_dict()
    if verdict["decision"] == "accept" or len(windows) == 1:
        return {**verdict, **extra}
    label = verdict["label"]
    accepted = ok & (windows["decision"] == "accept").to_numpy()
    scorable_time = durations[ok].sum()
    confident = {c: float(durations[accepted & (windows["label"] == c).to_numpy()].sum() / scorable_time)
                 for c in CLASSES}
    other = max(v for c, v in confident.items() if c != label)
    if confident[label] >= rule.track_min_share and other < rule.track_max_other:
        verdict["decision"] = "accept"
        verdict["reason"] = (f"confidently {label} for {confident[label]:.0%} of the time (>= "
                             f"{rule.track_min_share:.0%}), no other mood confidently for "
                             f"{rule.track_max_other:.0%} or more; {_mix(shares)} of the time")
    else:
        second = sorted(shares.values())[-2]
        kind = "mixed" if second >= rule.track_max_other else "not confident"
        verdict["reason"] = (f"{kind}: {_mix(shares)} of the time; mean confidence {verdict['confidence']:.2f} "
                             f"< {threshold:.2f}, confidently {label} for only {confident[label]:.0%}")
    return {**verdict, **extra}
