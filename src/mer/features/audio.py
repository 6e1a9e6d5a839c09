"""Decoding audio the way ``miraudio`` reads it: native rate, floats in [-1, 1], channels mixed by their mean.

Also the checks that make a signal usable for the 50 features, so every way in (a file, an array) fails the
same way, with an :class:`AudioError` whose message names the file and the reason:

* **Sample rate ≥ 12.8 kHz** (:data:`MIN_SAMPLE_RATE`). The chromagram's dB reference spans 100-6400 Hz
  and brightness splits at 1500 Hz; below 12.8 kHz the 6400 Hz band edge lies above Nyquist and the chroma
  would be computed on a different band than the one the training data saw. Higher rates (48, 96, 192 kHz)
  are used natively, as MIRtoolbox does: no resampling.
* **At least 1 s of audio** (:data:`MIN_DURATION_S`). Shorter clips have no HCDF frame pair (0.82 s) and no
  tempo lag range (up to 1.5 s); a clip of 1-2 s still gives a row, with NaN where a feature needs more, and
  the out-of-distribution guard flags it.
* **Finite samples.** A float file holding NaN or inf would silently poison every feature.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

MIN_SAMPLE_RATE = 12_800
MIN_DURATION_S = 1.0
AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".opus")
# decode in ~24 s blocks, so a long file never sits in memory as float64 × channels
_BLOCK_FRAMES = 1 << 20
_PREALLOC_MAX_FRAMES = 1 << 27  # 50 min at 44.1 kHz
# PCM is decoded as integers (what the file holds) and scaled once: libsndfile's float reading is i / 2^(bits−1),
# so the mono mix Σ_c i_c / (2^(bits−1)·channels) is bit-identical, and the float64 × channels copy is avoided
_NATIVE_PCM: dict[str, tuple[str, float]] = {
    "PCM_S8": ("int16", 2.0**15),
    "PCM_U8": ("int16", 2.0**15),
    "PCM_16": ("int16", 2.0**15),
    "PCM_24": ("int32", 2.0**31),
    "PCM_32": ("int32", 2.0**31),
}


class AudioError(ValueError):
    """A file or signal that cannot be turned into usable audio; the message says why."""


def load_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Read ``path`` as mono float64 at its native sample rate (no resampling, no normalisation).

    Channels are mixed by their mean block by block into one array, so peak memory is about the mono signal
    plus one block whatever the channel count. PCM is read as integers and scaled once (bit-identical to
    reading floats).
    """
    path = Path(path)
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file")
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")
    try:
        with sf.SoundFile(str(path)) as f:
            sr = int(f.samplerate)
            check_sample_rate(sr, path)
            dtype, scale = _NATIVE_PCM.get(f.subtype, ("float64", 1.0))
            x = _read_mono(f, dtype, scale)
    except sf.LibsndfileError as exc:
        raise AudioError(f"{path}: {_describe(exc)}") from exc
    except (RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"{path}: cannot decode audio ({exc})") from exc
    if len(x) == 0:
        raise AudioError(f"{path}: zero samples")
    if dtype == "float64" and not np.all(np.isfinite(x)):
        raise AudioError(f"{path}: audio contains NaN or infinite samples")
    return x, sr


def _read_mono(f: sf.SoundFile, dtype: str, scale: float) -> np.ndarray:
    """All frames of ``f`` mixed to mono float64, block by block into one preallocated array.

    The header's frame count sizes the array (capped, in case a corrupt header claims an absurd length);
    should a decoder deliver more, the surplus blocks are appended.
    """
    out = np.empty(min(max(f.frames, 0), _PREALLOC_MAX_FRAMES))
    pos, surplus = 0, []
    for block in f.blocks(blocksize=_BLOCK_FRAMES, dtype=dtype, always_2d=True):
        if pos + len(block) <= len(out) and not surplus:
            _mix(block, scale, out[pos : pos + len(block)])
            pos += len(block)
        else:
            surplus.append(_mix(block, scale, np.empty(len(block))))
    return np.concatenate([out[:pos], *surplus]) if surplus else out[:pos]


def _mix(block: np.ndarray, scale: float, out: np.ndarray) -> np.ndarray:
    """Mean of the channels of a (frames, channels) block, as float64 divided by ``scale``, into ``out``.

    Channels are added one column at a time (a strided ``mean(axis=1)`` is ~10× slower); integer samples sum
    exactly, so one division by scale·channels rounds exactly like the float decode's mean.
    """
    out[:] = block[:, 0]
    for c in range(1, block.shape[1]):
        out += block[:, c]
    out /= scale * block.shape[1]
    return out


def _describe(exc: sf.LibsndfileError) -> str:
    """libsndfile's message, reworded where it misleads (it calls an unknown format 'not a regular file')."""
    text = str(getattr(exc, "error_string", "") or exc)
    if "does not exist or is not a regular file" in text or "Format not recognised" in text:
        return "not a recognised audio format (corrupt, or not audio at all)"
    if "lost sync" in text or "psf_fseek" in text:
        return f"corrupt or truncated audio stream ({text.strip()})"
    return f"cannot decode audio ({text.strip()})"


def check_sample_rate(sr: int, what: object = "signal") -> None:
    """Raise :class:`AudioError` when ``sr`` is below :data:`MIN_SAMPLE_RATE` (see the module docstring)."""
    if sr < MIN_SAMPLE_RATE:
        raise AudioError(
            f"{what}: sample rate {sr} Hz is below the minimum {MIN_SAMPLE_RATE} Hz "
            "(the chromagram needs the band up to 6400 Hz); resample to 22050 Hz or more"
        )


def check_signal(x: np.ndarray, sr: int, what: object = "signal") -> np.ndarray:
    """Validate a mono signal for feature extraction and return it as contiguous float64.

    Raises :class:`AudioError` for a non-1-D array, a rate below :data:`MIN_SAMPLE_RATE`, non-finite samples,
    or fewer than :data:`MIN_DURATION_S` seconds.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise AudioError(f"{what}: expected a mono 1-D signal, got shape {x.shape}")
    check_sample_rate(sr, what)
    if len(x) == 0:
        raise AudioError(f"{what}: zero samples")
    if not np.all(np.isfinite(x)):
        raise AudioError(f"{what}: audio contains NaN or infinite samples")
    if len(x) < MIN_DURATION_S * sr:
        raise AudioError(f"{what}: too short ({len(x) / sr:.3f} s); need at least {MIN_DURATION_S:g} s")
    return x


def to_mono(x: np.ndarray, what: object = "signal") -> np.ndarray:
    """Mix a (frames, channels) array — soundfile's layout — to mono by the channel mean; 1-D passes through.

    Integer samples are scaled to [-1, 1) as a decoder would (int16 / 32768, uint8 centred on 128), since
    every level-dependent feature (RMS, roughness) assumes full scale 1. An array with more channels than
    frames is almost surely (channels, frames) (librosa's layout): refused rather than averaged the wrong way.
    """
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.integer):
        info = np.iinfo(x.dtype)
        half = 2.0 ** (info.bits - 1)
        x = (x.astype(np.float64) - (half if info.min == 0 else 0.0)) / half
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        return x
    if x.ndim != 2:
        raise AudioError(f"{what}: expected a 1-D or (frames, channels) array, got shape {x.shape}")
    if x.shape[1] > x.shape[0]:
        raise AudioError(f"{what}: shape {x.shape} looks like (channels, frames); pass (frames, channels)")
    return x.mean(axis=1)
