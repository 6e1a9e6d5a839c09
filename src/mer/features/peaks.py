"""``mirpeaks``: contrast-based peak picking as MIRtoolbox 1.7.1 does it (Lartillot & Toiviainen 2007, §2.3).

A local maximum is a peak when it stands out by more than ``contrast`` from the lowest point on *each* side
before the curve climbs back above it: the "previous and successive local minima" of the MIRtoolbox manual are
the significant ones, so two maxima separated by a shallow dip are one peak (the higher one), as a hysteresis
scan (Billauer's ``peakdet``) finds them. Where a side has no higher point up to the edge of the curve, that
side's minimum "does not exist" and only the other side is tested: a curve's first or last sample, and its
global maximum, can be peaks. Contrast and threshold are in units of the normalised curve (0-1), normalised
by default over *all* rows together.

This rule reproduces the event counts behind ``_Eventdensity_Mean`` of every one of the 34 oracle files
exactly. It is computed with ``scipy.signal.peak_prominences`` on all rows at once: each row is flanked by
−∞-like guards (so an edge side counts as "no minimum") and rows are separated by a +∞-like wall.

How to call it::

    p = mirpeaks(curve)                              # mireventdensity: contrast 0.1, global normalisation
    p = mirpeaks(spectrogram, contrast=0.01)         # mirroughness: peaks of every frame (rows), global 0-1
    p = mirpeaks(curve, contrast=0.05, valleys=True, threshold=0.5)   # valleys below 0.5
    p = mirpeaks(ac, contrast=0.1, normalize="local", begin=False, end=False,
                 interpolate=True, total=1)          # mirtempo: highest interior peak, quadratic refinement
    lag_index = p.position[0] if len(p) else nan     # fractional index into ``ac``; p.value[0] its height

Of two equal maxima closer than ``contrast`` the first is kept; a plateau's peak is its first sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import peak_prominences

_TILT = 1e-14
_GUARD = 4.0  # normalised curves live in [0, 1]: a value 4 below / above any sample acts as ∓∞


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


def _select(
    a: np.ndarray, lo: np.ndarray, span: np.ndarray, sign: float, contrast: float, has_nan: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(row, index) of the contrast peaks of each row of ``sign·(a − lo)/span`` (a [0, 1]-scaled curve).

    ``lo`` and ``span`` broadcast against ``a`` (one value, or one per row); NaN samples are gaps.
    """
    n_rows, n = a.shape
    width = n + 3
    # Rows laid end to end as [-G, row..., -G, +2G] after one leading +2G wall: the −G guards make an edge
    # side "minimum absent", the walls end every search inside its row. A tilt of −1e-14 per sample makes the
    # earlier of two equal samples the higher one, as MIRtoolbox's scan has it (first of equal maxima, first
    # sample of a plateau); it moves contrasts by < 1e-9.
    buf = np.empty(1 + n_rows * width)
    buf[0] = 2 * _GUARD
    grid = buf[1:].reshape(n_rows, width)
    grid[:, 0] = -_GUARD
    grid[:, n + 1] = -_GUARD
    grid[:, n + 2] = 2 * _GUARD
    inner = grid[:, 1 : n + 1]
    np.subtract(a, lo, out=inner)
    np.multiply(inner, sign / span, out=inner)
    if sign < 0:
        inner += 1.0
    inner -= _TILT * np.arange(n)
    if has_nan:
        np.copyto(inner, -_GUARD, where=np.isnan(a))
    low, high = inner.min(axis=1), inner.max(axis=1)
    # Local maxima. Only a row's maximum can have both sides "absent"; any other peak's contrast is at most
    # its height above the row's lowest value, so most maxima are ruled out before the prominence search.
    mask = inner > grid[:, :n]
    mask &= inner > grid[:, 2 : n + 2]
    mask &= (inner > (low + contrast)[:, None]) | (inner >= high[:, None])
    row, col = np.nonzero(mask)
    if len(row) == 0:
        return row, col
    pos = 2 + row * width + col
    prom = peak_prominences(buf, pos)[0]
    keep = prom > contrast
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
    """Peaks of a curve (1-D) or of each row of a 2-D array (e.g. frames × bins), MIRtoolbox's way.

    ``contrast``: a peak must exceed the lowest point on each side (before a higher point) by more than this,
    in normalised units (MIRtoolbox default 0.1). ``threshold``: its normalised height must exceed this
    (valleys: be below it); None = no threshold (MIRtoolbox's default 0 keeps every contrast peak).
    ``normalize``: "global" (default: one min-max over all rows), "local" (per row) or "none" (contrast and
    threshold in raw units). ``begin``/``end``: whether the first/last sample may be a peak (MIRtoolbox
    'NoBegin'/'NoEnd' turn them off; they still bound the contrast search). ``valleys``: pick minima.
    ``interpolate``: refine each peak by the vertex of the parabola through it and its two neighbours (edge
    samples are left as they are). ``total``: keep only the ``total`` highest (valleys: lowest) per row.
    ``order``: "position" or "amplitude" (highest first; valleys lowest first) within each row.

    NaN samples are gaps (never peaks; they bound the search like an edge). Empty input, all-NaN rows and
    constant rows give no peaks (nothing stands out by any contrast): an empty ``Peaks``, never an error.
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
    if normalize == "local":
        lo = np.where(varying, row_lo, 0.0)[:, None]
        span = np.where(varying, row_hi - row_lo, 1.0)[:, None]
        search_contrast = contrast
    else:
        g_lo, g_hi = (row_lo[varying].min(), row_hi[varying].max()) if varying.any() else (0.0, 1.0)
        lo, span = np.array(g_lo), np.array(g_hi - g_lo)
        search_contrast = contrast if normalize == "global" else contrast / float(span)
    if not varying.any():
        return Peaks(empty, empty, np.zeros(0), np.zeros(0), np.zeros(0))
    row, col = _select(a2, lo, span, -1.0 if valleys else 1.0, search_contrast, has_nan)
    keep = varying[row]
    row, col = row[keep], col[keep]
    # heights in the units of contrast and threshold: 0-1 normalised, or raw for normalize="none"
    if normalize == "none":
        height = a2[row, col]
    elif normalize == "local":
        height = (a2[row, col] - lo[row, 0]) / span[row, 0]
    else:
        height = (a2[row, col] - lo) / span

    n = a2.shape[1]
    keep = np.ones(len(row), dtype=bool)
    if threshold is not None:
        keep &= height < threshold if valleys else height > threshold
    if not begin:
        keep &= col != 0
    if not end:
        keep &= col != n - 1
    row, col, height = row[keep], col[keep], height[keep]

    position = col.astype(float)
    value = a2[row, col].astype(float)
    if interpolate and len(col):
        inner = (col > 0) & (col < n - 1)
        r_, c_ = row[inner], col[inner]
        left, mid, right = a2[r_, c_ - 1], a2[r_, c_], a2[r_, c_ + 1]
        denom = left - 2 * mid + right
        with np.errstate(all="ignore"):
            delta = np.where(denom != 0, 0.5 * (left - right) / denom, 0.0)
        position[inner] = c_ + delta
        value[inner] = mid - 0.25 * (left - right) * delta

    if total is not None or order == "amplitude":
        idx = np.lexsort((value if valleys else -value, row))
        if total is not None:
            first = np.r_[0, np.flatnonzero(np.diff(row[idx])) + 1]
            rank = np.arange(len(idx)) - np.repeat(first, np.diff(np.r_[first, len(idx)]))
            idx = idx[rank < total]
        if order == "position":
            idx = idx[np.lexsort((col[idx], row[idx]))]
        row, col, position, value, height = row[idx], col[idx], position[idx], value[idx], height[idx]
    return Peaks(row.astype(np.int64), col.astype(np.int64), position, value, height)
