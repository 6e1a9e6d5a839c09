"""``mirpeaks``: contrast peak picking as MIRtoolbox 1.7.1 does it (Lartillot & Toiviainen 2007, §2.3;
``shared/mirtoolbox-features.md`` §7.A, "rule A").

The curve is min-max normalised to z in [0, 1] (valleys: z = (max − y)/span, so valleys become maxima). A sample
k is a *candidate* when it rises from its left neighbour and does not fall to its right one (a plateau's first
sample), when z[k] ≥ contrast, and, with a threshold θ, when z[k] ≥ θ (valleys: the un-negated value ≤ θ). Its
*dip* on each side is the lowest z between k and the nearest higher sample on that side (an earlier equal sample
counts as higher, a later one does not). A candidate is a peak when z[k] − max(left dip, right dip) ≥ contrast.

Edges: one imagined sample lies beyond each end. An end *allowed* to hold a peak (``begin``/``end`` True) is
**open** — the imagined sample is −∞, so nothing on that side can disqualify a peak; an *excluded* end is a
**wall** — the imagined sample is +∞: the end sample cannot be a peak and the dip on that side is taken over the
real samples up to the edge. NaN samples are gaps that act like open edges.

Rows of a 2-D array (frames × bins) are picked independently, normalised together ("global") or one by one
("local"). All rows are laid end to end, with their edge sentinels, in one buffer and searched by
``scipy.signal.peak_prominences``, which returns each candidate's two dip positions; the contrast is then taken
on the exact normalised values. A tilt of −1e-14 per sample in the searched copy makes the earlier of two equal
samples the higher one (the tie rule); it decides only *where* the search stops and the dips are.

This reproduces the event counts of ``_Eventdensity_Mean``, the peaks of ``_Roughness_*``, the tempo peak and
the attack-time peaks and valleys of every one of the 34 oracle files.

How to call it::

    p = mirpeaks(curve)                              # mireventdensity: contrast 0.1, global normalisation
    p = mirpeaks(spectrogram, contrast=0.01)         # mirroughness: peaks of every frame (rows), global 0-1
    p = mirpeaks(curve, contrast=0.05, valleys=True, threshold=0.5, end=False)   # attack-time valleys
    p = mirpeaks(ac, contrast=0.1, begin=False, end=False, interpolate=True, total=1)   # mirtempo
    lag_index = p.position[0] if len(p) else nan     # fractional index into ``ac``; p.value[0] its height
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from scipy.signal import peak_prominences

_TILT = 1e-14
_GUARD = 4.0  # normalised curves live in [0, 1]: a value 4 below any sample acts as −∞
_WALL = 8.0  # ... and 8 above any sample as +∞
_local = threading.local()


@dataclass(frozen=True)
class Peaks:
    """Selected peaks (or valleys), ordered by row then by position (or by decreasing amplitude).

    ``row`` — row of each peak (always 0 for 1-D input); ``index`` — integer sample/bin index;
    ``position`` — fractional index (quadratic vertex if ``interpolate``, else ``index``);
    ``value`` — height in the *input's* units (the vertex height if ``interpolate``);
    ``normalized`` — height in the normalised 0-1 units used for contrast and threshold.
    """

    row: np.ndarray
    index: np.ndarray
    position: np.ndarray
    value: np.ndarray
    normalized: np.ndarray

    def __len__(self) -> int:
        return len(self.index)

    def in_row(self, r: int) -> Peaks:
        """The peaks of one row."""
        sel = self.row == r
        return Peaks(
            self.row[sel], self.index[sel], self.position[sel], self.value[sel], self.normalized[sel]
        )


def _row_range(a: np.ndarray, has_nan: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per-row min and max ignoring NaN (±inf for an all-NaN row)."""
    if not has_nan:
        return a.min(axis=1), a.max(axis=1)
    with np.errstate(all="ignore"):
        return np.where(np.isnan(a), np.inf, a).min(axis=1), np.where(np.isnan(a), -np.inf, a).max(axis=1)


def _scratch(size: int) -> np.ndarray:
    """A per-thread float64 buffer of at least ``size`` values, reused between calls: a fresh 20 MB buffer per
    roughness spectrogram costs more in page faults than the search itself."""
    buf = getattr(_local, "buf", None)
    if buf is None or len(buf) < size:
        buf = _local.buf = np.empty(size)
    return buf[:size]


def _select(
    a: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    span: np.ndarray,
    contrast: float,
    *,
    valleys: bool,
    begin: bool,
    end: bool,
    threshold: float | None,
    has_nan: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """(row, index) of the rule-A peaks of each row of ``a``, normalised as z = (a − lo)/span (valleys:
    (hi − a)/span); ``lo``, ``hi`` and ``span`` are scalars or one value per row. NaN samples are gaps.
    """
    n_rows, n = a.shape
    width = n + 3
    # buffer: [wall, (left edge, row..., right edge, wall) per row]; the wall ends every search inside its row
    buf = _scratch(1 + n_rows * width)
    buf[0] = _WALL
    grid = buf[1:].reshape(n_rows, width)
    grid[:, 0] = -_GUARD if begin else _WALL
    grid[:, n + 1] = -_GUARD if end else _WALL
    grid[:, n + 2] = _WALL
    inner = grid[:, 1 : n + 1]
    if valleys:
        np.subtract(hi, a, out=inner)
    else:
        np.subtract(a, lo, out=inner)
    np.divide(inner, span, out=inner)  # z exactly as rule A defines it
    with np.errstate(invalid="ignore"):
        cand = inner >= contrast  # candidates reach the contrast (NaN: never)
        if threshold is not None:
            level = (a - lo) / span
            cand &= level <= threshold if valleys else level >= threshold
    # the tie rule: a tilt of −1e-14 per sample makes the earlier of two equal samples the higher one
    inner -= _TILT * np.arange(n)
    if has_nan:
        np.copyto(inner, -_GUARD, where=np.isnan(a))
    step = np.empty_like(cand)
    cand &= np.greater(inner, grid[:, :n], out=step)
    cand &= np.greater(inner, grid[:, 2 : n + 2], out=step)
    row, col = np.nonzero(cand)
    if len(row) == 0:
        return row, col
    pos = 2 + row * width + col
    _, left, right = peak_prominences(buf, pos)

    def exact(p: np.ndarray) -> np.ndarray:
        """Untilted z at buffer positions (the sentinels keep their ±∞ stand-ins, gaps −∞)."""
        r, c = np.divmod(p - 1, width)
        c -= 1
        real = (p > 0) & (c >= 0) & (c < n)
        out = buf[p].copy()
        rr, cc = r[real], c[real]
        ref = np.broadcast_to(hi if valleys else lo, (n_rows, 1))[rr, 0]
        span_ = np.broadcast_to(span, (n_rows, 1))[rr, 0]
        vals = (ref - a[rr, cc]) / span_ if valleys else (a[rr, cc] - ref) / span_
        out[real] = np.where(np.isnan(vals), -_GUARD, vals)
        return out

    keep = exact(pos) - np.maximum(exact(left), exact(right)) >= contrast
    return row[keep], col[keep]


def mirpeaks(
    y: np.ndarray,
    *,
    contrast: float = 0.1,
    threshold: float | None = None,
    normalize: str = "global",
    begin: bool = True,
    end: bool = True,
    valleys: bool = False,
    interpolate: bool = False,
    total: int | None = None,
    order: str = "position",
) -> Peaks:
    """Peaks of a curve (1-D) or of each row of a 2-D array (e.g. frames × bins) by rule A (module docstring).

    ``contrast`` (MIRtoolbox default 0.1) and ``threshold`` (None: no threshold) are in normalised units.
    ``normalize``: "global" (one min-max over all rows), "local" (per row) or "none" (contrast and threshold in
    raw units). ``begin``/``end``: whether the first/last sample may be a peak — an excluded end is a wall, not
    merely a refused sample. ``valleys``: pick minima. ``interpolate``: refine each kept peak by the vertex of the
    parabola through it and its two neighbours (rule A.6; edge samples are left as they are). ``total``: keep
    only the ``total`` highest *sample* values (valleys: lowest) per row, the earlier among ties. ``order``:
    "position" or "amplitude" (highest first; valleys lowest first) within each row.

    Empty input, all-NaN rows and constant rows give no peaks: an empty ``Peaks``, never an error.
    """
    arr = np.asarray(y, dtype=float)
    a2 = arr[None, :] if arr.ndim == 1 else arr
    if a2.ndim != 2:
        raise ValueError("mirpeaks takes a 1-D curve or a 2-D (rows × samples) array")
    if order not in ("position", "amplitude"):
        raise ValueError(f"unknown order {order!r}")
    if normalize not in ("global", "local", "none"):
        raise ValueError(f"unknown normalize {normalize!r}")
    empty = np.zeros(0, np.int64)
    if a2.size == 0:
        return Peaks(empty, empty, np.zeros(0), np.zeros(0), np.zeros(0))
    has_nan = bool(np.isnan(a2).any())
    row_lo, row_hi = _row_range(a2, has_nan)
    varying = row_hi > row_lo  # False for constant and all-NaN rows: they have no peaks
    if not varying.any():
        return Peaks(empty, empty, np.zeros(0), np.zeros(0), np.zeros(0))
    if normalize == "local":
        lo = np.where(varying, row_lo, 0.0)[:, None]
        hi = np.where(varying, row_hi, 1.0)[:, None]
        span = hi - lo
        scale = 1.0
    else:
        lo = np.array(row_lo[varying].min())
        hi = np.array(row_hi[varying].max())
        span = hi - lo
        scale = 1.0 if normalize == "global" else float(span)  # "none": contrast/threshold in raw units
    c = contrast / scale
    th = None if threshold is None else threshold / scale
    row, col = _select(a2, lo, hi, span, c, valleys=valleys, begin=begin, end=end, threshold=th, has_nan=has_nan)
    if not varying.all():
        keep = varying[row]
        row, col = row[keep], col[keep]
    lo_r = np.broadcast_to(lo, (len(a2), 1))[row, 0]
    span_r = np.broadcast_to(span, (len(a2), 1))[row, 0]
    height = a2[row, col] if normalize == "none" else (a2[row, col] - lo_r) / span_r

    n = a2.shape[1]
    rank = a2[row, col].astype(float)  # selection uses the sample value, never the refined height (A.5)
    position = col.astype(float)
    value = rank.copy()
    if interpolate and len(col):
        inner = (col > 0) & (col < n - 1)
        r_, c_ = row[inner], col[inner]
        left, mid, right = a2[r_, c_ - 1], a2[r_, c_], a2[r_, c_ + 1]
        denom = 2 * (2 * mid - left - right)
        with np.errstate(all="ignore"):
            delta = np.where(denom != 0, (right - left) / denom, 0.0)
        position[inner] = c_ + delta
        value[inner] = mid - 0.25 * (left - right) * delta

    if total is not None or order == "amplitude":
        idx = np.lexsort((col, rank if valleys else -rank, row))
        if total is not None:
            first = np.r_[0, np.flatnonzero(np.diff(row[idx])) + 1]
            count = np.diff(np.r_[first, len(idx)])
            rank_in_row = np.arange(len(idx)) - np.repeat(first, count)
            idx = idx[rank_in_row < total]
        if order == "position":
            idx = idx[np.lexsort((col[idx], row[idx]))]
        row, col, position, value, height = row[idx], col[idx], position[idx], value[idx], height[idx]
    return Peaks(row.astype(np.int64), col.astype(np.int64), position, value, height)
