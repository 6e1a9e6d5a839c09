"""Bad and unusual audio: every case gives a row or a clear per-file error, and a batch always carries on.

Each file is generated in a tmp dir with soundfile/numpy. Rules checked here (documented in ``audio`` and
``extract``): fewer than 1 s, a rate below 12.8 kHz, no samples, or an undecodable file → :class:`AudioError`
naming the reason; digital silence → a row whose spectral shape, MFCC and chroma are NaN (no spectrum to
describe), flagged out of distribution with those names.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mer.features import extract as ex
from mer.features.audio import MIN_SAMPLE_RATE, AudioError, load_audio
from mer.schema import FEATURE_NAMES

SR = 22050
SECONDS = 2.5


def _music(seconds: float = SECONDS, sr: int = SR, seed: int = 0) -> np.ndarray:
    """A few decaying plucked tones plus a little noise: a signal on which every feature is defined."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    x = 0.01 * rng.standard_normal(len(t))
    for k, f0 in enumerate((220.0, 277.2, 329.6, 440.0, 392.0)):
        onset = k * seconds / 5
        env = np.where(t >= onset, np.exp(-(t - onset) * 4.0), 0.0)
        x += 0.2 * env * sum(np.sin(2 * np.pi * h * f0 * t) / h for h in (1, 2, 3))
    return x


def _write(path: Path, data: np.ndarray, sr: int = SR, subtype: str | None = None) -> Path:
    sf.write(str(path), data, sr, subtype=subtype)
    return path


def _truncate(path: Path, keep: float) -> Path:
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])
    return path


@pytest.fixture
def bad_dir(tmp_path: Path) -> dict[str, Path]:
    """One file per case; the good ones are short so the batch stays fast."""
    x = _music()
    files = {
        "empty": tmp_path / "empty.wav",
        "zero_samples": _write(tmp_path / "zero.wav", np.zeros((0, 1))),
        "truncated_flac": _truncate(_write(tmp_path / "trunc.flac", np.c_[x, x]), 0.5),
        "header_only_flac": _truncate(_write(tmp_path / "header.flac", x), 0.01),
        "truncated_wav": _truncate(_write(tmp_path / "trunc.wav", x), 0.6),
        "text_as_mp3": tmp_path / "notes.mp3",
        "silence": _write(tmp_path / "silence.wav", np.zeros(int(SECONDS * SR))),
        "too_short": _write(tmp_path / "short.wav", x[: int(0.5 * SR)]),
        "low_rate": _write(tmp_path / "8k.wav", x[: 3 * 8000], sr=8000),
        "pcm_u8": _write(tmp_path / "u8.wav", x, subtype="PCM_U8"),
        "mono": _write(tmp_path / "mono.flac", x),
    }
    files["empty"].write_bytes(b"")
    files["text_as_mp3"].write_text("these are my notes, not audio\n" * 20)
    return files


EXPECTED_ERRORS = {  # regular expressions the error message must contain
    "empty": "empty file",
    "zero_samples": "zero samples",
    "header_only_flac": "corrupt|cannot decode",
    "text_as_mp3": "not a recognised audio format",
    "too_short": "too short",
    "low_rate": "sample rate",
}


@pytest.mark.parametrize("case", sorted(EXPECTED_ERRORS))
def test_unusable_file_gives_clear_error(bad_dir: dict[str, Path], case: str) -> None:
    path = bad_dir[case]
    with pytest.raises(AudioError, match=EXPECTED_ERRORS[case]) as info:
        ex.extract(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("case", ["truncated_flac", "truncated_wav"])
def test_truncated_file_gives_row_or_clear_error(bad_dir: dict[str, Path], case: str) -> None:
    """libsndfile reads a truncated WAV up to its end but loses sync in a FLAC; either outcome is fine."""
    try:
        rows = ex.extract(bad_dir[case])
    except AudioError as exc:
        assert "corrupt" in str(exc) or "decode" in str(exc)
    else:
        assert len(rows) == 1 and list(rows.columns) == list(ex.COLUMNS)


def test_batch_carries_on_past_every_bad_file(bad_dir: dict[str, Path]) -> None:
    order = sorted(bad_dir)
    results = list(ex.extract_many([bad_dir[k] for k in order]))
    assert [r.file for r in results] == [str(bad_dir[k]) for k in order]
    by_case = dict(zip(order, results, strict=True))
    for case, expected in EXPECTED_ERRORS.items():
        assert not by_case[case].ok and re.search(expected, by_case[case].error or "")
        assert by_case[case].rows is None
    for case in ("silence", "pcm_u8", "mono"):
        assert by_case[case].ok, by_case[case].error
        assert len(by_case[case].rows) == 1


def test_a_failing_feature_becomes_an_error_record(
    monkeypatch: pytest.MonkeyPatch, bad_dir: dict[str, Path]
) -> None:
    """An unexpected exception inside a feature (a bug on one odd file) must not stop the batch either."""
    real = ex.EXTRACTORS["mirrms"]

    def flaky(clip: ex.Clip) -> float:
        if len(clip.x) > 2 * clip.sr:  # longer than 2 s
            raise FloatingPointError("boom")
        return real(clip)

    monkeypatch.setitem(ex.EXTRACTORS, "mirrms", flaky)
    short = _write(bad_dir["mono"].with_name("short_ok.wav"), _music(1.5))
    results = list(ex.extract_many([bad_dir["mono"], short]))
    assert not results[0].ok and "FloatingPointError: boom" in (results[0].error or "")
    assert results[1].ok


def test_silence_gives_flagged_row_with_documented_nans(bad_dir: dict[str, Path]) -> None:
    row = ex.extract(bad_dir["silence"]).iloc[0]
    assert row["_RMSenergy_Mean"] == 0.0
    assert row["_Zero-crossingrate_Mean"] == 0.0
    undefined = [
        n for n in FEATURE_NAMES
        if n.startswith(("_MFCC_", "_Chromagram_", "_Spectral", "_Rolloff", "_Brightness", "_Entropy"))
    ]
    assert row[undefined].isna().all()
    assert row["ood"]
    flagged = set(row["ood_features"].split(";"))
    assert set(undefined) <= flagged
    assert {n for n in FEATURE_NAMES if np.isnan(row[n])} <= flagged


def test_8bit_wav_matches_16bit_within_quantisation(tmp_path: Path) -> None:
    x = _music()
    u8 = ex.extract(_write(tmp_path / "u8.wav", x, subtype="PCM_U8")).iloc[0]
    s16 = ex.extract(_write(tmp_path / "s16.wav", x, subtype="PCM_16")).iloc[0]
    assert u8["_RMSenergy_Mean"] == pytest.approx(s16["_RMSenergy_Mean"], rel=0.02)
    assert u8["_MFCC_Mean_1"] == pytest.approx(s16["_MFCC_Mean_1"], rel=0.05)


@pytest.mark.parametrize("sample_rate", [44_100, None])
def test_96k_works_resampled_and_natively(tmp_path: Path, sample_rate: int | None) -> None:
    sr = 96_000
    t = np.arange(2 * sr) / sr
    x = 0.5 * np.sin(2 * np.pi * 440.0 * t)
    path = _write(tmp_path / "hi.wav", x, sr=sr, subtype="FLOAT")
    assert load_audio(path)[1] == sr
    assert load_audio(path, sample_rate)[1] == (sample_rate or sr)
    row = ex.extract(path, sample_rate=sample_rate).iloc[0]
    chroma = row[[f"_Chromagram_Mean_{k}" for k in range(1, 13)]].to_numpy(dtype=float)
    assert int(np.argmax(chroma)) == 9  # A
    assert row["_Rolloff_Mean"] == pytest.approx(440.0, abs=2.0)
    assert row["_Zero-crossingrate_Mean"] == pytest.approx(440.0, rel=0.01)
    assert row["end_s"] == pytest.approx(2.0)


def test_minimum_rate_is_accepted(tmp_path: Path) -> None:
    x = _music(sr=MIN_SAMPLE_RATE)
    assert len(ex.extract(_write(tmp_path / "min.wav", x, sr=MIN_SAMPLE_RATE, subtype="FLOAT"))) == 1
    with pytest.raises(AudioError, match="sample rate"):
        ex.extract(x, MIN_SAMPLE_RATE - 1)


@pytest.mark.parametrize("channels", [2, 6])
def test_multichannel_is_the_channel_mean(tmp_path: Path, channels: int) -> None:
    rng = np.random.default_rng(channels)
    stems = np.stack([_music(seed=k) * rng.uniform(0.2, 1.0) for k in range(channels)], axis=1)
    multi = ex.extract(_write(tmp_path / "multi.wav", stems, subtype="DOUBLE")).iloc[0]
    mono = ex.extract(_write(tmp_path / "mono.wav", stems.mean(axis=1), subtype="DOUBLE")).iloc[0]
    np.testing.assert_allclose(
        multi[list(FEATURE_NAMES)].to_numpy(dtype=float), mono[list(FEATURE_NAMES)].to_numpy(dtype=float),
        rtol=1e-9, atol=1e-12,
    )


def test_non_finite_samples_are_refused(tmp_path: Path) -> None:
    x = _music()
    x[100] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        ex.extract(_write(tmp_path / "nan.wav", x, subtype="FLOAT"))
    with pytest.raises(AudioError, match="NaN"):
        ex.extract(x, SR)


def test_array_layouts(tmp_path: Path) -> None:
    x = _music()
    stereo = np.c_[x, 0.5 * x]
    np.testing.assert_allclose(
        ex.extract(stereo, SR)[list(FEATURE_NAMES)].to_numpy(dtype=float),
        ex.extract(0.75 * x, SR)[list(FEATURE_NAMES)].to_numpy(dtype=float),
        rtol=1e-9, atol=1e-12,
    )
    with pytest.raises(AudioError, match="channels, frames"):
        ex.extract(stereo.T, SR)
    with pytest.raises(ValueError, match="sample rate"):
        ex.extract(x)
    pcm = np.round(x * 32767).astype(np.int16)  # integer samples are read as full scale 1, like a decoder's
    assert ex.extract(pcm, SR).loc[0, "_RMSenergy_Mean"] == pytest.approx(np.sqrt(np.mean(x**2)), rel=1e-3)
