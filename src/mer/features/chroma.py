"""``mirchromagram`` (whole file) and ``mirhcdf`` (0.743-s frames), as MIRtoolbox 1.7.1 computes them.

Chromagram, per frame (``shared/mirtoolbox-features.md`` §2 and the bookkeeping of §7 E.1):

1. min-max normalise the frame to [0, 1] ('NormalInput'), symmetric Hamming window, |FFT| zero-padded to
   2^nextpow2.
2. dB = 20·log10(|X| + 1e-16); subtract the frame's maximum over the bins from the first ≥ 100 Hz to the first
   ≥ 6400 Hz (inclusive), clip at -20 dB, add 20 (values in [0, 20]).
3. The chroma band: those bins up to f₀·2^⌊log₂(f₁/f₀)⌋ — whole octaves from the first kept bin f₀ (5 octaves:
   3229.98 Hz at 32768 points and 44.1 kHz). Chromas: every integer between the lowest and highest
   round(12·log2(f/261.6256 Hz)) of the band. Each chroma is the *mean* dB of the bins strictly inside
   (f_c − ½(f_c − f_{c−1}), f_c + ½(f_{c+1} − f_c)) (0 if none); the first and last chromas are halved.
4. Sum by pitch class, divide by (max + 1e-6).

Every chroma value of the 34 oracle files is within 1e-6; the HCDF statistics within 2 % (median 5e-7) except
the steady sine's (§7 E.3, below).

HCDF (Harte, Sandler & Gasser 2006, without their Gaussian smoothing and L1 normalisation): tonal centroid
= 6×12 matrix (r = 1, 1, 0.5 on the circles of fifths, minor thirds, major thirds) times the chroma vector
of each 0.743-s frame (hop 0.1), then the Euclidean distance between consecutive frames; the six
``mirstat`` statistics of that (frames start at floor(i·3276.63) at 44.1 kHz: the hop comes from the unfloored
frame length, §7 E.2).

Steady sine (§7 E.3, the one known difference): consecutive tonal centroids differ by rounding only. We set
distances below 1e-9 to 0 (Mean 0, Std 0, the other statistics NaN); MIRtoolbox exports Mean 0 and Std 0 too but
computes Slope and the Period statistics on its rounding noise, which no implementation can reproduce.

Silence: a whole file of digital silence has no chroma (NaN, the extractor flags it). An all-zero *frame*
inside a file gives a flat chroma, whose tonal centroid is 0 — the oracle's silence-then-chord file is
matched that way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
from scipy import fft as sfft

from mer.features.blocks import frame_starts, framed_rfft, hamming, mirstat, next_pow2

C_REF_HZ = 261.6256
BAND_LOW_HZ = 100.0
REF_HIGH_HZ = 6400.0
DB_RANGE = 20.0
HCDF_FRAME_S = 0.743
HCDF_HOP = 0.1
HCDF_STATS = ("Mean", "Std", "Slope", "PeriodFreq", "PeriodAmp", "PeriodEntropy")
_NUMERICAL_ZERO = 1e-9
# float32 frame FFTs are ~1.5× faster; they move the HCDF statistics by < 1e-6 relative on the oracle files
_HCDF_DTYPE = np.float32


@dataclass(frozen=True)
class _Layout:
    """Where the chroma bins sit in an ``n_fft`` spectrum at ``sr``: fixed for a given (sr, n_fft)."""

    ref: slice  # bins whose maximum is the 0-dB reference (first ≥ 100 Hz … first ≥ 6400 Hz)
    band: slice  # bins entering chromas (whole octaves from the first reference bin), a sub-range of ``ref``
    lo: np.ndarray  # per kept chroma: first bin (index into ``band``)
    hi: np.ndarray  # per kept chroma: one past the last bin
    # (n_chromas, 12): 1/bin-count (halved at the two edges) in the chroma's pitch-class column
    to_class: np.ndarray


@cache
def _layout(sr: int, n_fft: int) -> _Layout | None:
    """The chroma bookkeeping of §7 E.1 for an ``n_fft``-point spectrum at ``sr``.

    Reference range: from the first bin ≥ 100 Hz to the first bin ≥ 6400 Hz, inclusive. Chroma band: the
    reference bins up to f₀·2^⌊log₂(f₁/f₀)⌋ (whole octaves from the first kept bin f₀; f₁ the last). Chromas: every
    integer between the lowest and highest round(12·log₂(f/261.6256)) of the band's bins; the first and last of
    that list are halved even when their half-semitone window holds no bin (an empty chroma counts 0).
    """
    n_bins = n_fft // 2 + 1
    step = sr / n_fft
    freqs = np.arange(n_bins) * step
    start = int(np.searchsorted(freqs, BAND_LOW_HZ, side="left"))
    top = int(np.searchsorted(freqs, REF_HIGH_HZ, side="left"))
    stop = min(top, n_bins - 1) + 1
    if stop - start < 2:
        return None
    f0, f1 = freqs[start], freqs[stop - 1]
    band_top = f0 * 2.0 ** np.floor(np.log2(f1 / f0))
    band_stop = int(np.searchsorted(freqs, band_top, side="right"))
    band_freqs = freqs[start:band_stop]
    index = np.round(12 * np.log2(band_freqs / C_REF_HZ))
    chromas = np.arange(index.min(), index.max() + 1)
    centre = C_REF_HZ * 2.0 ** (chromas / 12)
    below = C_REF_HZ * 2.0 ** ((chromas - 1) / 12)
    above = C_REF_HZ * 2.0 ** ((chromas + 1) / 12)
    lo = np.searchsorted(band_freqs, centre - 0.5 * (centre - below), side="right")
    hi = np.searchsorted(band_freqs, centre + 0.5 * (above - centre), side="left")
    count = hi - lo
    weight = np.where(count > 0, 1.0 / np.maximum(count, 1), 0.0)
    weight[0] *= 0.5
    weight[-1] *= 0.5
    to_class = np.zeros((len(chromas), 12))
    to_class[np.arange(len(chromas)), chromas.astype(int) % 12] = weight
    return _Layout(ref=slice(start, stop), band=slice(start, band_stop), lo=lo, hi=np.maximum(hi, lo),
                   to_class=to_class)


@lru_cache(maxsize=4)
def _hamming_dft(length: int, n_fft: int, start: int, stop: int) -> np.ndarray:
    """DFT bins [start, stop) of the zero-padded symmetric Hamming window, in closed form.

    With G(θ) = Σ_{n<L} e^{-iθn} = (1 − e^{-iθL}) / (1 − e^{-iθ}) and φ = 2π/(L−1), the window's DFT
    is 0.54·G(θ) − 0.23·(G(θ−φ) + G(θ+φ)). Only needed away from DC (bins ≥ 100 Hz), where no denominator
    vanishes.
    """
    theta = 2 * np.pi * np.arange(start, stop) / n_fft
    phi = 2 * np.pi / (length - 1)

    def geometric(t: np.ndarray) -> np.ndarray:
        return -np.expm1(-1j * t * length) / -np.expm1(-1j * t)

    dft = 0.54 * geometric(theta) - 0.23 * (geometric(theta - phi) + geometric(theta + phi))
    dft.setflags(write=False)
    return dft


def _chroma_from_magnitudes(mag: np.ndarray, layout: _Layout) -> np.ndarray:
    """Chroma rows (n, 12) from |X| over the reference bins (n, 100-6400 Hz); any overall scale cancels.

    The dB reference is the dB of the largest magnitude (log10 is monotonic), so only the chroma band's
    bins — half the reference range — need a logarithm.
    """
    reference = 20.0 * np.log10(mag.max(axis=1, keepdims=True) + 1e-16)
    band = 20.0 * np.log10(mag[:, layout.band.start - layout.ref.start : layout.band.stop - layout.ref.start] + 1e-16)
    band -= reference
    np.maximum(band, -DB_RANGE, out=band)
    band += DB_RANGE
    cum = np.zeros((len(band), band.shape[1] + 1))
    np.cumsum(band, axis=1, out=cum[:, 1:])
    classes = (cum[:, layout.hi] - cum[:, layout.lo]) @ layout.to_class
    return classes / (classes.max(axis=1, keepdims=True) + 1e-6)


def _normalise(frames: np.ndarray) -> np.ndarray:
    """'NormalInput': each frame min-max scaled to [0, 1]; a constant (e.g. all-zero) frame becomes 0."""
    lo = frames.min(axis=1, keepdims=True)
    span = frames.max(axis=1, keepdims=True) - lo
    return (frames - lo) / np.where(span > 0, span, 1.0)


def _chroma_rows(frames: np.ndarray, sr: int) -> np.ndarray:
    """Chroma vectors (n_frames, 12) of a 2-D block of equal-length frames, in float64."""
    n_frames, length = frames.shape
    n_fft = next_pow2(length)
    layout = _layout(sr, n_fft)
    if layout is None or n_frames == 0:
        return np.full((n_frames, 12), np.nan)
    spec = sfft.rfft(_normalise(frames) * hamming(length), n=n_fft, axis=1)
    return _chroma_from_magnitudes(np.abs(spec[:, layout.ref]), layout)


def chromagram(x: np.ndarray, sr: int, spectrum: np.ndarray | None = None) -> np.ndarray:
    """``_Chromagram_Mean_1..12`` (C, C#, …, B): one whole-file chroma vector, largest class = 1.

    ``spectrum`` may pass the complex spectrum of ``x`` from :func:`blocks.hamming_spectrum`: the min-max
    normalised input's spectrum is then (X − min·W)/(max − min), W being the window's DFT, which saves a
    second 2^21-point FFT. A pure 440 Hz sine gives A alone; a C-major triad peaks at C, E and G; digital
    silence gives NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    if len(x) == 0 or np.ptp(x) == 0:
        return np.full(12, np.nan)
    if spectrum is None:
        return _chroma_rows(x[None, :], sr)[0]
    n_fft = next_pow2(len(x))
    if len(spectrum) != n_fft // 2 + 1:
        raise ValueError(f"spectrum has {len(spectrum)} bins, expected {n_fft // 2 + 1} for {len(x)} samples")
    layout = _layout(sr, n_fft)
    if layout is None:
        return np.full(12, np.nan)
    window = _hamming_dft(len(x), n_fft, layout.ref.start, layout.ref.stop)
    mag = np.abs(
        spectrum[layout.ref] - x.min() * window
    )  # the 1/(max − min) scale cancels in the dB reference
    return _chroma_from_magnitudes(mag[None, :], layout)[0]


_K = np.arange(12)
_TONAL_CENTROID = np.stack(
    [
        np.sin(_K * 7 * np.pi / 6),
        np.cos(_K * 7 * np.pi / 6),
        np.sin(_K * 3 * np.pi / 2),
        np.cos(_K * 3 * np.pi / 2),
        0.5 * np.sin(_K * 2 * np.pi / 3),
        0.5 * np.cos(_K * 2 * np.pi / 3),
    ]
)


def tonal_centroids(x: np.ndarray, sr: int) -> tuple[np.ndarray, float]:
    """Tonal-centroid vectors (n_frames, 6) of the 0.743-s / hop-0.1 chroma frames, and the frame period in s.

    The period is round(hop) samples: the oracle's HCDF PeriodFreq values are 1/(k·3277/44100), not
    3276/44100.
    """
    x = np.asarray(x, dtype=np.float64)
    starts, length = frame_starts(len(x), sr, HCDF_FRAME_S, HCDF_HOP)
    period = np.floor(HCDF_HOP * HCDF_FRAME_S * sr + 0.5) / sr
    if len(starts) == 0:
        return np.zeros((0, 6)), period
    n_fft = next_pow2(length)
    layout = _layout(sr, n_fft)
    if layout is None:
        return np.full((len(starts), 6), np.nan), period
    chroma = np.empty((len(starts), 12))
    low, flat = _frame_range(x, starts, length)
    window = _hamming_dft(length, n_fft, layout.ref.start, layout.ref.stop)
    for first, spec in framed_rfft(x, starts, length, n_fft, hamming(length), _HCDF_DTYPE):
        rows = slice(first, first + len(spec))
        # 'NormalInput' without a normalised copy of each frame: the spectrum of (frame − min)·w is X − min·W;
        # the 1/(max − min) scale cancels against the dB reference. A constant frame becomes all zeros.
        mag = np.abs(spec[:, layout.ref] - low[rows, None] * window)
        mag[flat[rows]] = 0.0
        chroma[rows] = _chroma_from_magnitudes(mag, layout)
    return chroma @ _TONAL_CENTROID.T, period


def _frame_range(x: np.ndarray, starts: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: its minimum, and whether it is constant (max == min), read in place without gathering."""
    low = np.empty(len(starts))
    flat = np.empty(len(starts), dtype=bool)
    for i, s in enumerate(starts.tolist()):
        frame = x[s : s + length]
        low[i] = frame.min()
        flat[i] = frame.max() == low[i]
    return low, flat


def hcdf(x: np.ndarray, sr: int) -> dict[str, float]:
    """``_HarmonicChangeDetectionFunction_*``: mirstat (1.7.1) of the distance between consecutive tonal
    centroids.

    Fewer than two frames (a clip shorter than ~0.82 s) gives NaN statistics. Distances below 1e-9 are
    rounding noise and set to 0, so silence gives Mean 0, Std 0 and NaN for the other statistics
    (MIRtoolbox reports statistics of its own rounding noise there).
    """
    centroids, period = tonal_centroids(x, sr)
    if len(centroids) < 2:
        return dict.fromkeys(HCDF_STATS, float("nan"))
    distance = np.linalg.norm(np.diff(centroids, axis=0), axis=1)
    # identical frames (silence, a steady sine) differ by rounding only
    distance[distance < _NUMERICAL_ZERO] = 0.0
    stats = mirstat(distance, period)
    return {k: stats[k] for k in HCDF_STATS}
