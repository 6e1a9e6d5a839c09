"""RMS, low energy, ZCR and the whole-file spectral features against MIRtoolbox 1.7.1 (``tests/oracle``).

Tolerance (the issue's): 0.5 % relative, or 1e-3 absolute for values near zero; NaN in the oracle must be
NaN here.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from oracle_support import ORACLE_FILES, oracle_audio, oracle_table

from mer.features import dynamics, spectral
from mer.features.blocks import magnitude_spectrum

REL_TOL = 0.005
ABS_TOL = 1e-3
SR = 44100


@cache
def _spectrum(name: str) -> tuple[np.ndarray, np.ndarray]:
    x, sr = oracle_audio(name)
    return magnitude_spectrum(x, sr)


def assert_close(ours: float, oracle: float, what: str, rel: float = REL_TOL, abs_: float = ABS_TOL) -> None:
    if np.isnan(oracle):
        assert np.isnan(ours), f"{what}: oracle NaN, ours {ours}"
        return
    assert np.isfinite(ours), f"{what}: ours {ours}, oracle {oracle}"
    err = abs(ours - oracle)
    assert err <= abs_ or err <= rel * abs(oracle), f"{what}: ours {ours:.6g} vs oracle {oracle:.6g}"


SIGNAL_FEATURES = {
    "_RMSenergy_Mean": dynamics.rms,
    "_Lowenergy_Mean": dynamics.lowenergy,
    "_Zero-crossingrate_Mean": dynamics.zerocross,
}
SPECTRUM_FEATURES = {
    "_Rolloff_Mean": spectral.rolloff,
    "_Brightness_Mean": spectral.brightness,
    "_Spectralcentroid_Mean": spectral.centroid,
    "_Spectralspread_Mean": spectral.spread,
    "_Spectralskewness_Mean": spectral.skewness,
    "_Spectralkurtosis_Mean": spectral.kurtosis,
    "_Spectralflatness_Mean": spectral.flatness,
    "_EntropyofSpectrum_Mean": spectral.entropy,
}


@pytest.mark.parametrize("name", ORACLE_FILES)
def test_dynamics_match_oracle(name: str) -> None:
    x, sr = oracle_audio(name)
    row = oracle_table().loc[name]
    for column, fn in SIGNAL_FEATURES.items():
        assert_close(fn(x, sr), row[column], f"{name} {column}")


@pytest.mark.parametrize("name", ORACLE_FILES)
def test_spectral_match_oracle(name: str) -> None:
    freqs, mag = _spectrum(name)
    row = oracle_table().loc[name]
    for column, fn in SPECTRUM_FEATURES.items():
        assert_close(fn(freqs, mag), row[column], f"{name} {column}")


def test_spectral_shape_agrees_with_single_functions() -> None:
    freqs, mag = _spectrum("wesnoth_sad.flac")
    shape = spectral.spectral_shape(freqs, mag)
    assert shape["spread"] == spectral.spread(freqs, mag)
    assert shape["kurtosis"] == spectral.kurtosis(freqs, mag)
    assert shape["centroid"] == spectral.centroid(freqs, mag)  # entropy 0.80 < 0.95: not gated


# --- known answers on synthetic signals ---


def _sine(freq: float, seconds: float = 5.0, amp: float = 0.5, sr: int = SR) -> np.ndarray:
    return amp * np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr)


def test_sine_centroid_and_rolloff_at_its_frequency() -> None:
    freqs, mag = magnitude_spectrum(_sine(1000.0), SR)
    # Magnitude (not power) weighting lets the Hamming sidelobes, spread over 0-22 kHz, pull the centroid a
    # few % above the tone (the oracle's 440 Hz sine: 447.9 Hz); the rolloff sits on the tone's bin.
    assert 1000.0 < spectral.centroid(freqs, mag) < 1080.0
    assert spectral.rolloff(freqs, mag) == pytest.approx(1000.0, abs=1.0)
    assert spectral.brightness(freqs, mag) < 0.05  # only sidelobe leakage above 1500 Hz
    assert spectral.entropy(freqs, mag) < 0.5


def test_sine_dynamics() -> None:
    x = _sine(440.0, amp=0.5)
    assert dynamics.rms(x, SR) == pytest.approx(0.5 / np.sqrt(2), rel=1e-4)
    assert dynamics.zerocross(x, SR) == pytest.approx(440.0, rel=1e-3)  # direction 'One': one per period


def test_lowenergy_half_loud_half_quiet() -> None:
    x = np.concatenate([_sine(440.0, 2.0, amp=0.5), _sine(440.0, 2.0, amp=0.01)])
    assert dynamics.lowenergy(x, SR) == pytest.approx(0.5, abs=0.02)


def test_zero_crossings_ignore_exact_zeros() -> None:
    x = np.array([1.0, 0.0, -1.0, 0.0, 1.0, -1.0])
    assert dynamics.zerocross(x, 6) == pytest.approx(1 / 6 * 6 / 2)  # only the last pair crosses


def test_white_noise_has_no_centroid() -> None:
    x = np.random.default_rng(0).uniform(-0.1, 0.1, 5 * SR)
    freqs, mag = magnitude_spectrum(x, SR)
    assert spectral.entropy(freqs, mag) > 0.95
    assert np.isnan(spectral.centroid(freqs, mag))
    assert spectral.spread(freqs, mag) == pytest.approx(SR / 2 / np.sqrt(12), rel=0.02)  # flat on [0, fs/2]
    assert spectral.kurtosis(freqs, mag) == pytest.approx(1.8, rel=0.02)  # uniform distribution


def test_silence_rule() -> None:
    """Digital silence: RMS/ZCR/low energy are 0; every spectral-shape feature is NaN (documented rule)."""
    x = np.zeros(2 * SR)
    assert dynamics.rms(x, SR) == 0.0
    assert dynamics.zerocross(x, SR) == 0.0
    assert dynamics.lowenergy(x, SR) == 0.0
    freqs, mag = magnitude_spectrum(x, SR)
    for fn in SPECTRUM_FEATURES.values():
        assert np.isnan(fn(freqs, mag))


def test_too_short_for_a_frame() -> None:
    x = _sine(440.0, seconds=0.01)
    assert np.isnan(dynamics.lowenergy(x, SR))
    assert np.isfinite(dynamics.rms(x, SR))
