"""Peak picking, onset envelopes, roughness, event density and attack time against MIRtoolbox 1.7.1
(``tests/oracle``), plus known answers on synthetic signals.

Tolerances (the issue's): roughness Mean and Slope 2 % relative (Slope: or 2 % of the column's UCI range
absolute, since it crosses zero); event density and attack time Mean and Slope within 10 % on >= 80 % of the
real-music clips. Event density reaches that on every file (its onset count is exact). Attack time does NOT:
the >= 80 % target is kept as a strict xfail, and the bar actually achieved is asserted separately and marked.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from oracle_support import ORACLE_FILES, REAL_FILES, oracle_audio, oracle_table
from test_dynamics_spectral import assert_close

from mer.features import attack, envelope, peaks, roughness
from mer.schema import FEATURE_RANGES

SR = 44100
ROUGH = {s: f"_Roughness_{s}" for s in roughness.STATS}
ATTACK = {s: f"_AttackTime_{s}" for s in attack.STATS}
# silence then a chord: the roughness sequence is exactly 0 for 15 s, so its autocorrelation has no rise;
# MIRtoolbox's FFT-based xcorr finds one in rounding noise (PeriodFreq 0.0512 Hz with PeriodAmp 0.000000)
ROUGH_KNOWN = {("synth_h_silence_chord.flac", "PeriodFreq"), ("synth_h_silence_chord.flac", "PeriodAmp")}


@cache
def _roughness(name: str) -> dict[str, float]:
    return roughness.roughness(*oracle_audio(name))


@cache
def _onsets(name: str) -> tuple[float, dict[str, float]]:
    x, sr = oracle_audio(name)
    curve = attack.onset_curve(x, sr)
    return attack.event_density(x, sr, curve), attack.attack_time(x, sr, curve)


def _rel(ours: float, ref: float) -> float:
    return abs(ours - ref) / abs(ref) if ref != 0 else abs(ours - ref)


# --- mirpeaks ------------------------------------------------------------------------------------------


def _scan(y: np.ndarray, contrast: float) -> list[int]:
    """Reference: the left-to-right hysteresis scan (first sample may start a peak, last peak kept)."""
    out, looking_for_max, best, best_at, low = [], True, y[0], 0, y[0]
    for i, v in enumerate(y):
        if looking_for_max:
            if v > best:
                best, best_at = v, i
            if v < best - contrast:
                out.append(best_at)
                looking_for_max, low = False, v
        else:
            low = min(low, v)
            if v > low + contrast:
                looking_for_max, best, best_at = True, v, i
    if looking_for_max:
        out.append(best_at)
    return out


@pytest.mark.parametrize("seed", range(5))
def test_mirpeaks_matches_reference_scan(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(200):
        y = np.cumsum(rng.standard_normal(rng.integers(2, 80))) if seed % 2 else rng.random(rng.integers(2, 80))
        contrast = float(rng.choice([0.01, 0.05, 0.1, 0.3]))
        z = (y - y.min()) / np.ptp(y)
        assert list(peaks.mirpeaks(y, contrast=contrast).index) == _scan(z, contrast)


def test_mirpeaks_rows_and_global_normalisation() -> None:
    rng = np.random.default_rng(7)
    grid = rng.random((20, 50)) * rng.random((20, 1)) * 5
    got = peaks.mirpeaks(grid, contrast=0.05)
    z = (grid - grid.min()) / np.ptp(grid)  # one min-max over all rows
    for r in range(20):
        assert list(got.in_row(r).index) == _scan(z[r], 0.05)
    local = peaks.mirpeaks(grid, contrast=0.05, normalize="local")
    for r in range(20):
        zr = (grid[r] - grid[r].min()) / np.ptp(grid[r])
        assert list(local.in_row(r).index) == _scan(zr, 0.05)


def test_mirpeaks_contrast_edges_threshold_valleys() -> None:
    y = np.array([0.0, 1.0, 0.95, 0.97, 0.2, 0.6, 0.55, 0.0, 0.3])
    assert list(peaks.mirpeaks(y, contrast=0.1).index) == [1, 5, 8]  # 0.97 merged into 1.0; last sample a peak
    assert list(peaks.mirpeaks(y, contrast=0.1, end=False).index) == [1, 5]
    assert list(peaks.mirpeaks(y, contrast=0.1, threshold=0.5).index) == [1, 5]
    assert list(peaks.mirpeaks(y, contrast=0.1, valleys=True).index) == [0, 4, 7]
    assert list(peaks.mirpeaks(y, contrast=0.1, valleys=True, begin=False, threshold=0.1).index) == [7]
    top = peaks.mirpeaks(y, contrast=0.1, total=1)
    assert list(top.index) == [1] and top.value[0] == 1.0
    assert list(peaks.mirpeaks(y, contrast=0.1, order="amplitude").index) == [1, 5, 8]
    # plateau: its first sample; equal maxima separated by a shallow dip: the first one
    assert list(peaks.mirpeaks(np.array([0, 1, 1, 1, 0.0]), contrast=0.1).index) == [1]
    assert list(peaks.mirpeaks(np.array([0, 1, 0.95, 1, 0.0]), contrast=0.1).index) == [1]


def test_mirpeaks_quadratic_interpolation_is_exact_on_a_parabola() -> None:
    lag = np.arange(40.0)
    curve = 3.0 - 0.01 * (lag - 17.3) ** 2
    p = peaks.mirpeaks(curve, contrast=0.1, normalize="local", begin=False, end=False, interpolate=True, total=1)
    assert p.position[0] == pytest.approx(17.3, abs=1e-9)
    assert p.value[0] == pytest.approx(3.0, abs=1e-9)


def test_mirpeaks_degenerate_input_gives_no_peaks() -> None:
    for y in (np.zeros(0), np.zeros(10), np.full(5, 2.0), np.full(4, np.nan), np.zeros((3, 0))):
        assert len(peaks.mirpeaks(y)) == 0
    gap = peaks.mirpeaks(np.array([0, 1, 0, np.nan, 0, 2, 0.0]), contrast=0.1)
    assert list(gap.index) == [1, 5]


# --- spectral onset envelope ---------------------------------------------------------------------------


def test_hanning_is_matlabs() -> None:
    w = envelope.hanning(5)
    assert np.allclose(w, 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(1, 6) / 6))
    assert w.min() > 0


def test_envelope_power_path_equals_fft_sum() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(SR // 2)
    env = envelope.spectro_envelope(x, SR, 0.1, 0.1, power=True)
    length = 4410
    frames = np.stack([x[int(np.floor(i * 441.0)) : int(np.floor(i * 441.0)) + length] for i in range(len(env))])
    direct = (np.abs(np.fft.rfft(frames * envelope.hanning(length), n=8192, axis=1)) ** 2).sum(axis=1)
    assert np.allclose(env.values, direct / direct.max(), rtol=1e-10)
    assert env.frame_rate == pytest.approx(100.0)
    diff = envelope.spectro_envelope(x, SR, 0.1, 0.1, power=True, diff=True)
    assert len(diff) == len(env) - 1
    d = np.diff(direct)
    assert np.allclose(diff.values, d / np.abs(d).max(), rtol=1e-9)  # no half-wave rectification


def test_envelope_silence_and_short_input() -> None:
    assert not envelope.spectro_envelope(np.zeros(SR), SR).values.any()
    assert len(envelope.spectro_envelope(np.ones(100), SR)) == 0


# --- roughness -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ORACLE_FILES)
def test_roughness_matches_oracle(name: str) -> None:
    ours, row = _roughness(name), oracle_table().loc[name]
    for stat, column in ROUGH.items():
        if (name, stat) in ROUGH_KNOWN:
            continue
        if stat == "Slope":
            low, high = FEATURE_RANGES[column]
            assert_close(ours[stat], row[column], f"{name} {column}", rel=0.02, abs_=0.02 * (high - low))
        else:
            assert_close(ours[stat], row[column], f"{name} {column}", rel=0.02, abs_=1e-6)


def test_roughness_two_sines_follow_sethares() -> None:
    n_fft, length = 4096, 2205
    k1, k2 = 41, 51  # bin-centred partials, 107.7 Hz apart (441.4 and 549.1 Hz): no main-lobe overlap
    f1, f2 = k1 * SR / n_fft, k2 * SR / n_fft
    t = np.arange(SR) / SR
    x = 0.5 * np.sin(2 * np.pi * f1 * t) + 0.3 * np.sin(2 * np.pi * f2 * t)
    values, period = roughness.roughness_frames(x, SR)
    assert period == pytest.approx(1102 / SR)
    # by hand: each partial's peak is (amplitude/2)·Σ Hamming window (leakage < 1 %)
    gain = np.hamming(length).sum() / 2
    s = 0.24 / (0.0207 * f1 + 18.96)
    dist = s * (f2 - f1)
    expected = (0.5 * gain) * (0.3 * gain) * (np.exp(-3.51 * dist) - np.exp(-5.75 * dist))
    assert np.allclose(values, expected, rtol=0.02)
    # and exactly the pair formula on the picked bins' magnitudes
    frame = x[:length] * np.hamming(length)
    mag = np.abs(np.fft.rfft(frame, n=n_fft))
    assert values[0] == pytest.approx(
        float(roughness.sethares_pair(f1, f2, mag[k1], mag[k2])), rel=1e-6
    )


def test_roughness_single_sine_silence_and_short_input() -> None:
    sine = roughness.roughness(0.5 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR), SR)
    assert sine["Mean"] == 0.0 and np.isnan(sine["Std"]) and np.isnan(sine["Slope"])  # one partial: 0
    assert all(np.isnan(v) for v in roughness.roughness(np.zeros(SR), SR).values())
    assert all(np.isnan(v) for v in roughness.roughness(np.ones(1000), SR).values())  # < one 50 ms frame


# --- event density -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ORACLE_FILES)
def test_event_density_matches_oracle_exactly(name: str) -> None:
    # the density is (peak count) / (frames / 100): equal to 6 decimals means the same onset count
    assert_close(_onsets(name)[0], oracle_table().loc[name, "_Eventdensity_Mean"], name, rel=1e-5, abs_=1e-6)


def test_event_density_within_10_percent_on_80_percent_of_music() -> None:
    errs = {f: _rel(_onsets(f)[0], oracle_table().loc[f, "_Eventdensity_Mean"]) for f in REAL_FILES}
    failures = {f: e for f, e in errs.items() if e > 0.10}
    print("event density failures:", failures)
    assert len(failures) <= 0.2 * len(REAL_FILES)


def test_event_density_of_a_click_train() -> None:
    x = np.zeros(10 * SR)
    clicks = np.arange(0.25, 9.8, 0.25)  # 4 Hz, away from the edges
    x[(clicks * SR).astype(int)] = 0.9
    n_frames = (len(x) - 4410) // 441 + 1
    assert attack.event_density(x, SR) == pytest.approx(len(clicks) / (n_frames * 0.01), rel=1e-12)


def test_event_density_silence_and_short_input() -> None:
    assert np.isnan(attack.event_density(np.zeros(SR), SR))
    assert np.isnan(attack.event_density(np.ones(1000), SR))


# --- attack time ---------------------------------------------------------------------------------------


def _attack_errors(stat: str) -> dict[str, float]:
    column, out = ATTACK[stat], {}
    low, high = FEATURE_RANGES[column]
    for f in REAL_FILES:
        ours, ref = _onsets(f)[1][stat], oracle_table().loc[f, column]
        err = _rel(ours, ref)
        if stat == "Slope":  # crosses zero: also allow 2 % of the UCI range
            err = 0.0 if abs(ours - ref) <= 0.02 * (high - low) else err
        out[f] = err
    return out


@pytest.mark.xfail(strict=True, reason="KNOWN GAP: attack time is approximate (see mer.features.attack)")
@pytest.mark.parametrize("stat", ["Mean", "Slope"])
def test_attack_time_within_10_percent_on_80_percent_of_music(stat: str) -> None:
    errs = _attack_errors(stat)
    failures = {f: round(e, 3) for f, e in errs.items() if e > 0.10}
    print(f"attack time {stat} failures:", failures)
    assert len(failures) <= 0.2 * len(REAL_FILES)


def test_attack_time_achieved_bar() -> None:
    """HONEST ACHIEVED BAR, below the issue's target: Mean median error <= 20 % (achieved 16.7 %, 5/26 clips
    within 10 %), every clip within ×0.2-×1.5; ours runs short on music (no long outliers). Tighten when the
    1.7.1 attack rule is pinned down."""
    errs = _attack_errors("Mean")
    print("attack time Mean relative errors:", {f: round(e, 3) for f, e in errs.items()})
    assert np.median(list(errs.values())) <= 0.20
    for f in REAL_FILES:
        ours, ref = _onsets(f)[1]["Mean"], oracle_table().loc[f, ATTACK["Mean"]]
        assert ref / 5 <= ours <= ref * 1.5, f


@pytest.mark.parametrize("name", ["wesnoth_vengeful.flac", "wesnoth_sad.flac", "synth_b_kick90_pink.flac"])
def test_attack_times_from_spans_equal_the_full_fine_curve(name: str) -> None:
    """The fine curve is computed only inside each attack phase: slicing the full normalised curve must give
    the same attacks (the Derivate rule is scale-invariant), to the sample."""
    x, sr = oracle_audio(name)
    coarse = attack.onset_curve(x, sr)
    fine = envelope.spectro_envelope(x, sr, attack.FINE_FRAME_S, attack.FINE_HOP, power=False)
    onsets = peaks.mirpeaks(coarse.values, contrast=attack.EVENT_CONTRAST).index
    valleys = peaks.mirpeaks(coarse.values, contrast=0.05, valleys=True, threshold=0.5).index
    mid_c = coarse.times + coarse.frame_length / (2 * sr)
    mid_f = fine.times + fine.frame_length / (2 * sr)
    which = np.searchsorted(valleys, onsets, side="left") - 1
    slope, expected = np.diff(fine.values), []
    for v, o in zip(valleys[which[which >= 0]], onsets[which >= 0], strict=True):
        a, b = np.searchsorted(mid_f, mid_c[v]), min(np.searchsorted(mid_f, mid_c[o]), len(fine) - 1)
        bounds = attack._attack_bounds(slope[a:b])
        if bounds is not None and bounds[1] > bounds[0]:
            expected.append(fine.times[a + bounds[1]] - fine.times[a + bounds[0]])
    got = attack.attack_times(x, sr, coarse)
    assert len(got) == len(expected) > 5
    assert np.allclose(got, expected, rtol=0, atol=0.5 / sr)


@pytest.mark.parametrize(
    "name", ["synth_a_click120.flac", "synth_g_ks_pentatonic140.flac", "synth_h_silence_chord.flac"]
)
def test_attack_time_clean_onsets_within_one_fine_hop(name: str) -> None:
    ours, ref = _onsets(name)[1]["Mean"], oracle_table().loc[name, ATTACK["Mean"]]
    assert abs(ours - ref) <= 1.1 * 0.0006, f"{name}: ours {ours:.5f} vs {ref:.5f}"


def test_attack_time_nan_rules_match_oracle() -> None:
    sine = _onsets("synth_e_sine440.flac")[1]
    assert all(np.isnan(v) for v in sine.values())  # no rising attack at all
    chord = _onsets("synth_h_silence_chord.flac")[1]  # a single attack: Mean only
    assert np.isfinite(chord["Mean"]) and np.isnan(chord["Std"]) and np.isnan(chord["Slope"])
    assert all(np.isnan(v) for v in attack.attack_time(np.zeros(SR), SR).values())
    assert all(np.isnan(v) for v in attack.attack_time(np.ones(1000), SR).values())


def test_attack_time_of_clicks_follows_the_window() -> None:
    """A click's fine curve rises as the Hann window (30 ms): its slope is sin-shaped, so the 10 % / 7.5 %
    slope thresholds bound an attack of 15 ms − 30 ms·(asin 0.1 + asin 0.075)/(2π) = 14.16 ms."""
    x = np.zeros(10 * SR)
    x[(np.arange(0.5, 9.6, 0.5) * SR).astype(int)] = 0.9
    times = attack.attack_times(x, SR)
    expected = 0.015 - 0.03 * (np.arcsin(0.1) + np.arcsin(0.075)) / (2 * np.pi)
    assert len(times) >= 15
    assert np.all(np.abs(times - expected) <= 0.001)
    stats = attack.attack_time(x, SR)
    assert np.isnan(stats["PeriodFreq"]) and np.isnan(stats["PeriodAmp"])
