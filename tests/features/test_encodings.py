"""Encodings and sample rates: M4A/AAC through PyAV, resampling to the 44.1 kHz analysis rate, the minimum rates.

Every file is generated here (AAC and ALAC with PyAV's bundled FFmpeg, the rest with soundfile). The verdict
stability on real music per encoding is measured by ``bench/stability.py``; these tests pin the mechanics: the
block-by-block resampler gives exactly the whole-signal result, 44.1 kHz input is untouched, a resampled tone is
the tone, M4A decodes aligned and complete, and bad M4A files give a clear per-file error.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from mer.features import audio
from mer.features import extract as ex
from mer.features.audio import AudioError, AudioStream, audio_info, load_audio, resample, resample_blocks
from mer.schema import FEATURE_NAMES, FEATURE_RANGES

SR = 44_100


def _music(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    """Decaying plucked tones over soft noise, stereo (frames, 2): every feature is defined on it."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    x = 0.01 * rng.standard_normal(len(t))
    for k, f0 in enumerate((220.0, 277.2, 329.6, 440.0, 392.0, 293.7)):
        onset = (k % 6) * 0.4
        env = np.where(t % 2.4 >= onset, np.exp(-((t % 2.4) - onset) * 4.0), 0.0)
        x += 0.15 * env * sum(np.sin(2 * np.pi * h * f0 * t) / h for h in (1, 2, 3))
    return np.c_[x, 0.9 * x]


def _write_m4a(path: Path, x: np.ndarray, sr: int, codec: str = "aac") -> Path:
    """``x`` (frames, channels) as AAC (128 kbit/s) or ALAC in an M4A file, with timestamps so the muxer writes
    the edit list that hides the encoder's priming samples."""
    with av.open(str(path), "w", format="ipod") as out:
        stream = out.add_stream(codec, rate=sr, layout="stereo" if x.shape[1] == 2 else "mono")
        if codec == "aac":
            stream.bit_rate = 128_000
        fmt, step = ("fltp", 1024) if codec == "aac" else ("s16p", 4096)
        for i in range(0, len(x), step):
            chunk = x[i : i + step].T
            chunk = chunk.astype(np.float32) if fmt == "fltp" else np.round(chunk * 32767).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format=fmt, layout=stream.layout.name)
            frame.sample_rate, frame.pts, frame.time_base = sr, i, Fraction(1, sr)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def _lag(a: np.ndarray, b: np.ndarray, sr: int, max_lag: int = 3000) -> int:
    """The shift of ``b`` against ``a`` (samples) that best aligns one second from 1 s in."""
    seg = slice(sr, 2 * sr)
    return max(range(-max_lag, max_lag + 1), key=lambda k: float(a[seg] @ b[seg.start + k : seg.stop + k]))


@pytest.fixture(scope="module")
def stereo() -> np.ndarray:
    return _music(6.0, SR)


# --- resampling ---


@pytest.mark.parametrize(("sr_in", "sr_out"), [(48_000, 44_100), (22_050, 44_100), (96_000, 44_100), (32_000, 44_100)])
def test_block_by_block_resampling_is_the_whole_signal_resampled(sr_in: int, sr_out: int) -> None:
    rng = np.random.default_rng(sr_in)
    x = rng.standard_normal(int(2.3 * sr_in))
    whole = resample(x, sr_in, sr_out)
    assert len(whole) == -(-len(x) * sr_out // sr_in)
    cuts = np.sort(rng.choice(np.arange(1, len(x)), size=40, replace=False))
    blocks = [b for b in np.split(x, cuts)]
    streamed = np.concatenate(list(resample_blocks(iter(blocks), sr_in, sr_out)))
    np.testing.assert_array_equal(streamed, whole)


@pytest.mark.parametrize("sr_in", [48_000, 22_050, 96_000])
def test_resampled_tone_is_the_tone_at_44k(sr_in: int) -> None:
    """A 1 kHz tone keeps its amplitude and phase (no delay: output m sits at input time m·sr_in/sr_out)."""
    f = 1000.0
    x = 0.5 * np.sin(2 * np.pi * f * np.arange(2 * sr_in) / sr_in)
    y = resample(x, sr_in, SR)
    expected = 0.5 * np.sin(2 * np.pi * f * np.arange(len(y)) / SR)
    inner = slice(SR // 10, len(y) - SR // 10)  # away from the zero-padded ends
    np.testing.assert_allclose(y[inner], expected[inner], atol=2e-4)


@pytest.mark.parametrize(("tone", "max_gain_db"), [(23_500.0, -80.0), (22_800.0, -25.0)])
def test_content_above_44k_nyquist_is_removed_not_folded(tone: float, max_gain_db: float) -> None:
    """A tone in a 48 kHz file above 22.05 kHz must be dropped, not aliased below it (the filter's transition band
    ends 6 % above Nyquist: 23.4 kHz)."""
    sr_in = 48_000
    x = np.sin(2 * np.pi * tone * np.arange(sr_in) / sr_in)
    y = resample(x, sr_in, SR)
    rms = np.sqrt(np.mean(y[SR // 10 : -SR // 10] ** 2))
    assert 20 * np.log10(rms / np.sqrt(0.5)) < max_gain_db


def test_44k_input_is_analysed_untouched(tmp_path: Path, stereo: np.ndarray) -> None:
    path = tmp_path / "clip.flac"
    sf.write(str(path), stereo, SR)
    default = ex.extract(path)
    native = ex.extract(path, sample_rate=None)
    assert default[list(FEATURE_NAMES)].equals(native[list(FEATURE_NAMES)])
    assert load_audio(path, 44_100)[0].tobytes() == load_audio(path)[0].tobytes()


def test_48k_file_is_resampled_by_default_and_close_to_44k(tmp_path: Path) -> None:
    x48 = _music(4.0, 48_000)
    path = tmp_path / "hi.wav"
    sf.write(str(path), x48, 48_000, subtype="FLOAT")
    with AudioStream(path) as stream:
        assert (stream.native_sr, stream.sr) == (48_000, 48_000)  # AudioStream alone: native unless asked
    assert load_audio(path, 44_100)[1] == 44_100
    rows = ex.extract(path)
    assert rows["end_s"].iloc[0] == pytest.approx(4.0, abs=1e-4)
    at44 = ex.extract(_music(4.0, SR), SR).iloc[0]
    assert rows.iloc[0]["_RMSenergy_Mean"] == pytest.approx(at44["_RMSenergy_Mean"], rel=0.01)
    assert rows.iloc[0]["_MFCC_Mean_1"] == pytest.approx(at44["_MFCC_Mean_1"], rel=0.02)


def test_a_resampled_file_gives_the_rows_of_the_whole_signal(tmp_path: Path, monkeypatch) -> None:
    """Streaming keeps its property under resampling: small decode blocks, windows across block edges."""
    path = tmp_path / "long.wav"
    sf.write(str(path), _music(7.0, 48_000), 48_000, subtype="FLOAT")
    settings = {"window_s": 2.0, "hop_s": 1.5, "min_last_s": 1.0}
    x, sr = load_audio(path)  # native, whole
    monkeypatch.setattr(audio, "_BLOCK_FRAMES", 30_011)
    streamed = ex.extract(path, **settings)
    whole = ex.extract(x, sr, name=str(path), **settings)
    assert len(streamed) == 5
    assert streamed.equals(whole)


# --- minimum rates ---


def test_minimum_source_rate_follows_the_analysis_rate(tmp_path: Path) -> None:
    x = _music(2.0, 16_000)
    low = tmp_path / "16k.wav"
    sf.write(str(low), x, 16_000)
    below = audio.MIN_SAMPLE_RATE - 1
    with pytest.raises(AudioError, match=f"below the minimum {audio.MIN_SAMPLE_RATE} Hz"):
        ex.extract(_music(2.0, below), below)
    assert len(ex.extract(_music(2.0, audio.MIN_SAMPLE_RATE), audio.MIN_SAMPLE_RATE)) == 1
    native_ok = audio.MIN_NATIVE_SAMPLE_RATE
    assert len(ex.extract(_music(2.0, native_ok), native_ok, sample_rate=None)) == 1
    with pytest.raises(AudioError, match=f"below the minimum {native_ok} Hz"):
        ex.extract(_music(2.0, native_ok - 1), native_ok - 1, sample_rate=None)
    with pytest.raises(ValueError, match="analysis sample rate"):
        ex.extract(low, sample_rate=8_000)


# --- M4A / AAC through PyAV ---


def test_aac_in_m4a_decodes_aligned_and_complete(tmp_path: Path, stereo: np.ndarray) -> None:
    path = _write_m4a(tmp_path / "song.m4a", stereo, SR)
    info = audio_info(path)
    assert (info.sample_rate, info.channels) == (SR, 2)
    assert info.duration_s == pytest.approx(6.0, abs=0.05)
    y, sr = load_audio(path)
    ref = stereo.mean(axis=1)
    assert sr == SR and abs(len(y) - len(ref)) < 1024  # at most the last frame's padding
    assert _lag(ref, y, SR) == 0  # the encoder's priming samples are dropped
    n = min(len(y), len(ref))
    snr = 10 * np.log10(np.sum(ref[:n] ** 2) / np.sum((y[:n] - ref[:n]) ** 2))
    assert snr > 15


def test_m4a_rows_are_close_to_the_lossless_rows(tmp_path: Path, stereo: np.ndarray) -> None:
    m4a = ex.extract(_write_m4a(tmp_path / "song.m4a", stereo, SR)).iloc[0]
    sf.write(str(tmp_path / "song.flac"), stereo, SR)
    flac = ex.extract(tmp_path / "song.flac").iloc[0]
    # (not the spectral shape or brightness: the encoder low-pass removes much of this signal's white-noise floor)
    for column in ("_RMSenergy_Mean", "_MFCC_Mean_1", "_MFCC_Mean_2", "_Chromagram_Mean_1", "_Tempo_Mean",
                   "_Roughness_Mean", "_Eventdensity_Mean"):
        low, high = FEATURE_RANGES[column]
        assert abs(m4a[column] - flac[column]) <= 0.05 * (high - low), column


def test_alac_in_m4a_is_lossless(tmp_path: Path, stereo: np.ndarray) -> None:
    """Apple Lossless in an M4A: the same samples as the 16-bit WAV of the same data."""
    path = _write_m4a(tmp_path / "lossless.m4a", stereo, SR, codec="alac")
    sf.write(str(tmp_path / "same.wav"), stereo, SR, subtype="PCM_16")
    y, _ = load_audio(path)
    ref, _ = load_audio(tmp_path / "same.wav")
    assert len(y) == len(ref)
    np.testing.assert_allclose(y, ref, atol=1.5 / 32768)


def test_m4a_is_read_block_by_block(tmp_path: Path, stereo: np.ndarray, monkeypatch) -> None:
    path = _write_m4a(tmp_path / "song.m4a", stereo, SR)
    whole, _ = load_audio(path)
    monkeypatch.setattr(audio, "_BLOCK_FRAMES", 10_000)
    with AudioStream(path) as stream:
        blocks = list(stream.blocks())
    assert len(blocks) > 10 and max(map(len, blocks)) < 12_000
    np.testing.assert_array_equal(np.concatenate(blocks), whole)


def test_m4a_at_48k_is_resampled(tmp_path: Path) -> None:
    path = _write_m4a(tmp_path / "hi.m4a", _music(3.0, 48_000), 48_000)
    assert audio_info(path).sample_rate == 48_000
    rows = ex.extract(path)
    assert len(rows) == 1 and rows["end_s"].iloc[0] == pytest.approx(3.0, abs=0.03)


def test_m4a_named_otherwise_is_recognised_by_its_content(tmp_path: Path, stereo: np.ndarray) -> None:
    path = _write_m4a(tmp_path / "song.m4a", stereo, SR).rename(tmp_path / "song.mp3")
    assert load_audio(path)[1] == SR


def test_m4a_is_an_audio_extension() -> None:
    assert {".m4a", ".aac"} <= set(audio.AUDIO_EXTENSIONS)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("text", "not a recognised audio format"),
        ("truncated", "not a recognised audio format|corrupt or truncated"),
        ("garbage_body", "not a recognised audio format|corrupt or truncated|zero samples"),
    ],
)
def test_bad_m4a_gives_a_clear_per_file_error(tmp_path: Path, stereo: np.ndarray, case: str, message: str) -> None:
    good = _write_m4a(tmp_path / "good.m4a", stereo, SR).read_bytes()
    path = tmp_path / f"{case}.m4a"
    if case == "text":
        path.write_text("not audio\n" * 50)
    elif case == "truncated":
        path.write_bytes(good[: len(good) // 3])
    else:  # header kept, the rest overwritten with noise
        noise = np.random.default_rng(0).integers(0, 256, len(good) - 64, dtype=np.uint8).tobytes()
        path.write_bytes(good[:64] + noise)
    with pytest.raises(AudioError, match=message) as info:
        ex.extract(path)
    assert str(path) in str(info.value)
    results = list(ex.extract_many([path, tmp_path / "good.m4a"]))
    assert not results[0].ok and results[1].ok


class _Uniform:
    """A stand-in model: the same probabilities for every row."""

    name, version, alias = "stub", "1", "champion"
    classes = ["angry", "happy", "relax", "sad"]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return np.tile([0.1, 0.6, 0.2, 0.1], (len(X), 1))


def test_an_m4a_track_is_scored_with_its_own_rate_and_length(tmp_path: Path) -> None:
    """The scoring core (mer batch, the upload API) reads an M4A's header through the same decoder."""
    from mer.scoring import score_audio
    from mer.settings import DecisionSettings

    path = _write_m4a(tmp_path / "song.m4a", _music(3.0, 48_000), 48_000)
    track = score_audio(_Uniform(), path, DecisionSettings())
    assert (track.sample_rate, track.channels) == (48_000, 2)
    assert track.duration_s == pytest.approx(3.0, abs=0.03)
    assert len(track.windows) == 1 and track.content_hash
