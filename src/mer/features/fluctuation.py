"""``_Fluctuation_Mean``: Pampalk's fluctuation pattern as MIRtoolbox 1.7.1's ``mirfluctuation(a)`` computes it.

Rhythmic periodicity per critical band (Pampalk, Rauber & Merkl 2002, "Content-based organization and visualization
of music archives", §3.1): a short-time power spectrogram at an 80 Hz frame rate is weighted by Terhardt's outer-ear
curve, summed into Bark bands, smeared across bands with Schroeder's spreading function and turned into dB; the
magnitude of an FFT along time of each band then shows how strongly the loudness fluctuates at 0-10 Hz, and
Zwicker's fluctuation-strength curve (peak at 4 Hz) weights it. ``mirexport`` collapses the resulting
(modulation bin x band) matrix to its overall mean. Parameters follow ``shared/mirtoolbox-features.md`` §2.

Digital silence is not special-cased: every band sits at the -160 dB floor, and the FFT of that constant series,
zero-padded to 2^13 points, is a Dirichlet kernel whose side lobes give a finite, deterministic value (15.64 for
30 s at 44.1 kHz, roughly inversely proportional to the duration), exactly what the recipe yields. Audio shorter
than one 23 ms frame gives NaN.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy import fft as sfft

from mer.features.blocks import framed_rfft, next_pow2

FRAME_S = 0.023
FRAME_RATE_HZ = 80.0
MIN_MODULATION_FFT = 8000
MAX_MODULATION_HZ = 10.0
DB_FLOOR = 1e-16
# Upper edges (Hz) of the 24 critical bands (Zwicker); a bin belongs to the first band whose edge is >= its frequency.
BARK_EDGES_HZ = np.array(
    [100, 200, 300, 400, 510, 630, 770, 920, 1080, 1270, 1480, 1720, 2000, 2320, 2700, 3150, 3700, 4400, 5300,
     6400, 7700, 9500, 12000, 15500],
    dtype=float,
)  # fmt: skip


def terhardt_weight(freqs: np.ndarray) -> np.ndarray:
    """Power weight of Terhardt's (1979) outer/middle-ear transfer function: the dB curve's amplitude, squared.

    The frequency argument is in kHz; DC gets weight 0 (the curve diverges there).
    """
    f_khz = np.asarray(freqs, dtype=float) / 1000.0
    weight = np.zeros_like(f_khz)
    pos = f_khz > 0
    f = f_khz[pos]
    db = -3.64 * f**-0.8 + 6.5 * np.exp(-0.6 * (f - 3.3) ** 2) - 0.001 * f**4
    weight[pos] = (10.0 ** (db / 20.0)) ** 2
    return weight


def n_bark_bands(sr: int) -> int:
    """Bands that hold at least one bin: those whose lower edge is below Nyquist (24 at >= 32 kHz, 23 at 22.05 kHz)."""
    lower_edges = np.concatenate([[0.0], BARK_EDGES_HZ[:-1]])
    return int(np.count_nonzero(lower_edges < sr / 2))


def schroeder_spreading(n_bands: int) -> np.ndarray:
    """Schroeder, Atal & Hall (1979) spreading matrix S[i, j] = 10^(dB(i - j)/10) of band j's power into band i."""
    d = np.arange(n_bands)[:, None] - np.arange(n_bands)[None, :] + 0.474
    return 10.0 ** ((15.81 + 7.5 * d - 17.5 * np.sqrt(1.0 + d * d)) / 10.0)


def fluctuation_strength_weight(mod_freqs: np.ndarray) -> np.ndarray:
    """Zwicker's fluctuation-strength shape as Pampalk uses it: 0 at DC, rising to 1 at 4 Hz, 0.7 at 10 Hz."""
    f = np.asarray(mod_freqs, dtype=float)
    return np.maximum(0.0, np.minimum(f / 4.0, 1.0 - 0.3 * (f - 4.0) / 6.0))


@cache
def _band_matrix(sr: int, n_fft: int) -> np.ndarray:
    """(bins x bands) 0/1 matrix: the Terhardt-weighted power of each bin summed into its Bark band."""
    freqs = np.arange(n_fft // 2 + 1) * (sr / n_fft)
    band = np.searchsorted(BARK_EDGES_HZ, freqs, side="left")  # edges[b-1] < f <= edges[b]; DC -> band 0
    n_bands = n_bark_bands(sr)
    onehot = (band[:, None] == np.arange(n_bands)[None, :]).astype(float)
    return onehot * terhardt_weight(freqs)[:, None]


def _frame_starts(n_samples: int, sr: int) -> tuple[np.ndarray, int]:
    """``mirframe`` starts for 23 ms frames at a hop of exactly sr/80 samples, kept fractional (floor(i*hop)).

    Computed here rather than through ``blocks.frame_starts`` because that takes a hop *ratio*, and
    ratio*length does not always reproduce sr/80 to the last bit, which would shift frames by one sample.
    """
    length = int(np.floor(FRAME_S * sr))
    hop = sr / FRAME_RATE_HZ
    if length <= 0 or n_samples < length:
        return np.zeros(0, dtype=np.int64), length
    count = int(np.floor((n_samples - length) / hop)) + 1
    return np.floor(np.arange(count) * hop).astype(np.int64), length


def fluctuation_pattern(x: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """The (modulation bin x Bark band) fluctuation matrix, in dB/s, and its modulation frequencies (0-10 Hz)."""
    x = np.asarray(x, dtype=float)
    starts, length = _frame_starts(len(x), sr)
    if len(starts) == 0:
        return np.zeros((0, n_bark_bands(sr))), np.zeros(0)
    n_fft = next_pow2(length)
    power = np.empty((len(starts), n_fft // 2 + 1))
    for lo, spec in framed_rfft(x, starts, length, n_fft, np.hamming(length), np.float64):
        power[lo : lo + len(spec)] = spec.real**2 + spec.imag**2
    bands = power @ _band_matrix(sr, n_fft)
    spread = bands @ schroeder_spreading(bands.shape[1]).T
    level_db = 10.0 * np.log10(spread + DB_FLOOR)

    n_mod = next_pow2(max(len(starts), MIN_MODULATION_FFT))
    mod_freqs = np.arange(n_mod // 2 + 1) * (FRAME_RATE_HZ / n_mod)
    keep = mod_freqs <= MAX_MODULATION_HZ
    # along time per band, on the contiguous transpose (a strided axis-0 FFT is slower); same values
    modulation = np.abs(sfft.rfft(np.ascontiguousarray(level_db.T), n=n_mod, axis=1))[:, keep].T.copy()
    duration = (starts[-1] + length - 1) / sr  # first sample of the first frame to the last of the last
    weight = fluctuation_strength_weight(mod_freqs[keep])
    return modulation / duration * weight[:, None], mod_freqs[keep]


def fluctuation(x: np.ndarray, sr: int) -> float:
    """``_Fluctuation_Mean``: the mean of the whole fluctuation pattern (``mirexport`` collapses > 50 rows)."""
    pattern, _ = fluctuation_pattern(x, sr)
    if pattern.size == 0:
        return float("nan")
    return float(pattern.mean())
