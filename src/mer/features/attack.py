"""``_Eventdensity_Mean`` and ``_AttackTime_*``: onset-based features of MIRtoolbox 1.7.1.

Both read the spectral onset curve of ``mironsets`` (Lartillot & Toiviainen 2007, DAFx-07, §3.2; see
:mod:`mer.features.envelope`): 100 ms frames, hop 10 ms, MATLAB ``hanning`` window, power spectrum summed over
frequency, divided by its maximum — the *coarse* curve.

Event density (``mireventdensity(a)``): the onsets are the ``mirpeaks`` peaks of the coarse curve with the default
contrast 0.1 (end points allowed); density = peaks / (frames / frame rate). Exact on all 34 oracle files.

Attack time (``mirattacktime(a)``, ``shared/mirtoolbox-features.md`` §7 C):

* the *fine* curve: 30 ms frames, hop ratio 0.02 (0.6 ms), ``hanning``, sum of |FFT| over all bins — over the
  whole clip, since its peaks (contrast 0.05, both ends walls) mark where attacks end;
* the coarse curve's valleys (contrast 0.05, normalised value ≤ 0.5, last sample a wall) mark where they may
  start; valleys and peaks are paired by a walk that skips stale peaks, merges valleys and drops peaks the
  curve never rises to (:func:`pair_phases`);
* each phase is cut to its attack by the "Derivate" rule (:func:`attack_bounds`): first rise, dip
  correction, stall truncation, then from the end of the first step steeper than 0.1 × the steepest to the
  start of the last step steeper than 0.075 × it;
* attack times = sorted end times − sorted start times (zero and one-hop negative values are kept); the
  ``mirstat`` statistics of that sequence.

Curves are stamped at their frame centres when compared in time. This reproduces Mean, Std, Slope and
PeriodEntropy of every oracle file to the exported six decimals.

Rules: input shorter than one 100 ms frame, or digital silence, gives NaN. No attack (no fine peak or no coarse
valley, e.g. a steady sine) gives NaN for every statistic; a single attack gives its Mean only.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

from mer.features.blocks import mirstat
from mer.features.envelope import Envelope, spectro_envelope
from mer.features.peaks import mirpeaks

ONSET_FRAME_S, ONSET_HOP = 0.1, 0.1
EVENT_CONTRAST = 0.1
FINE_FRAME_S, FINE_HOP = 0.03, 0.02
PEAK_CONTRAST = 0.05
VALLEY_CONTRAST, VALLEY_THRESHOLD = 0.05, 0.5
START_RATIO, END_RATIO = 0.1, 0.075
STALL_DIVISOR = 5.0  # a phase is cut where the curve stops rising after gaining a fifth of its total rise
STATS = ("Mean", "Std", "Slope", "PeriodFreq", "PeriodAmp", "PeriodEntropy")


def onset_curve(x: np.ndarray, sr: int) -> Envelope:
    """``mironsets(a)``'s default curve: 100 ms / 10 ms frames, ``hanning``, power, summed, max-normalised."""
    return spectro_envelope(x, sr, ONSET_FRAME_S, ONSET_HOP, power=True)


def fine_curve(x: np.ndarray, sr: int) -> Envelope:
    """The attack curve: 30 ms frames, hop 0.6 ms, ``hanning``, Σ|FFT| (float32 FFTs: exact on every oracle file)."""
    return spectro_envelope(x, sr, FINE_FRAME_S, FINE_HOP, power=False)


def event_density(x: np.ndarray, sr: int, curve: Envelope | None = None) -> float:
    """``_Eventdensity_Mean``: onsets per second (``mirpeaks`` contrast 0.1 on :func:`onset_curve`).

    ``curve`` may pass a precomputed :func:`onset_curve` (attack time uses the same one). A 120 BPM click
    train gives 2 events/s (minus edge effects); silence or input shorter than 100 ms gives NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    env = onset_curve(x, sr) if curve is None else curve
    if len(env) == 0 or not np.any(x):
        return float("nan")
    n_events = len(mirpeaks(env.values, contrast=EVENT_CONTRAST))
    return float(n_events * env.frame_rate / len(env))


def centres(env: Envelope, sr: int) -> np.ndarray:
    """Frame-centre times (start + (L − 1)/2)/fs of a curve: where two curves are compared in time (§7 C.1)."""
    return env.times + (env.frame_length - 1) / (2 * sr)


def attack_bounds(f: np.ndarray, s: int, p: int) -> tuple[int, int]:
    """(start, end) fine indices of the attack in the phase from ``s`` up to the peak ``p`` (§7 C.5, "Derivate").

    The curve must rise somewhere in [s, p). Start at the first rise, move back to the last point below the
    starting level from which the curve still falls, end early where it stalls after a fifth of its rise; then
    the attack runs from the end of the first step steeper than 0.1 × the steepest one to the start of the last
    step steeper than 0.075 × it (the sample conventions that reproduce MIRtoolbox).
    """
    step = np.diff(f[s : p + 1])
    s += int(np.argmax(step > 0))
    step = np.diff(f[s : p + 1])
    head = f[s:p]
    dips = np.flatnonzero((step < 0) & (head < f[s]))
    if len(dips):
        s += int(dips[-1])
        step = np.diff(f[s : p + 1])
        head = f[s:p]
    stalls = np.flatnonzero((step <= 0) & (head - f[s] > (f[p] - f[s]) / STALL_DIVISOR))
    e = s + int(stalls[0]) if len(stalls) else p
    d = step[: e - s]
    if len(d) == 0:
        return s + 1, s - 1
    top = int(np.argmax(d))
    steep_end = np.flatnonzero(d[top + 1 :] > END_RATIO * d[top])
    end = s + top + 1 + int(steep_end[-1]) if len(steep_end) else e - 1
    steep_start = np.flatnonzero(d[:top] > START_RATIO * d[top])
    start = s + int(steep_start[0]) + 1 if len(steep_start) else s + 1
    return start, end


def _rises(f: np.ndarray, s: int, p: int) -> bool:
    """Whether the curve rises strictly somewhere between fine samples s and p (False when p ≤ s)."""
    return p > s and bool(np.any(f[s + 1 : p + 1] > f[s:p]))


def pair_phases(
    f: np.ndarray, fine_times: np.ndarray, peaks: list[int], valleys: list[float]
) -> list[tuple[int, int]]:
    """(start, end) fine indices of every attack: the valley/peak walk of §7 C.4, then :func:`attack_bounds`.

    ``peaks`` are fine indices and ``valleys`` coarse times, both ascending; both lists shrink during the walk.
    """
    peaks, valleys = list(peaks), list(valleys)
    if not peaks or not valleys:
        return []
    if valleys[0] > fine_times[peaks[0]]:
        valleys.insert(0, float(fine_times[0]))
    peak_times = [float(fine_times[p]) for p in peaks]  # kept in step with ``peaks``
    out: list[tuple[int, int]] = []
    i = 0  # 0-based position of the spec's counter i
    while i < len(valleys):
        if len(peaks) <= i:  # every peak already paired: the last pair has no peak of its own
            if out:
                out.pop()
            break
        first_later = bisect_right(peak_times, valleys[i], lo=i)  # skip stale peaks
        if first_later < len(peaks):
            del peaks[i:first_later], peak_times[i:first_later]
        j = bisect_right(valleys, peak_times[i], lo=i)  # merge the valleys before this peak
        if i + 2 <= j < len(valleys):
            del valleys[i : j - 1]
        s = int(np.searchsorted(fine_times, valleys[i], side="left"))
        while len(peaks) > i and not _rises(f, s, peaks[i]):
            del peaks[i], peak_times[i]
        if len(peaks) <= i:
            break
        out.append(attack_bounds(f, s, peaks[i]))
        i += 1
    return out


def attack_times(x: np.ndarray, sr: int, curve: Envelope | None = None) -> np.ndarray:
    """Attack times (s) in MIRtoolbox's order (§7 C.6): sorted ends minus sorted starts; empty when none."""
    x = np.asarray(x, dtype=np.float64)
    coarse = onset_curve(x, sr) if curve is None else curve
    if len(coarse) == 0 or not np.any(x):
        return np.zeros(0)
    fine = fine_curve(x, sr)
    if len(fine) < 2:
        return np.zeros(0)
    f = fine.values
    peaks = mirpeaks(f, contrast=PEAK_CONTRAST, begin=False, end=False).index
    valleys = mirpeaks(
        coarse.values, contrast=VALLEY_CONTRAST, valleys=True, threshold=VALLEY_THRESHOLD, end=False
    ).index
    fine_times = centres(fine, sr)
    pairs = pair_phases(f, fine_times, peaks.tolist(), centres(coarse, sr)[valleys].tolist())
    if not pairs:
        return np.zeros(0)
    starts = np.sort(fine_times[[a for a, _ in pairs]])
    ends = np.sort(fine_times[[b for _, b in pairs]])
    return ends - starts[: len(ends)]


def attack_time(x: np.ndarray, sr: int, curve: Envelope | None = None) -> dict[str, float]:
    """``_AttackTime_{Mean,Std,Slope,PeriodFreq,PeriodAmp,PeriodEntropy}`` of ``mirattacktime(a)`` (1.7.1).

    Attacks are irregularly spaced, so PeriodFreq and PeriodAmp are NaN (``mirstat`` without a frame period).
    """
    values = attack_times(x, sr, curve)
    if len(values) == 0:
        return dict.fromkeys(STATS, float("nan"))
    return mirstat(values, frame_period=None)
