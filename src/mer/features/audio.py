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

from collections.abc import Iterator
from contextlib import contextmanager
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


class AudioStream:
    """An audio file opened for reading as mono float64 blocks, the way :func:`load_audio` reads it whole.

    Why: a track is analysed window by window, so it need not sit in memory whole (an hour at 44.1 kHz is 1.3 GB
    as mono float64). Opening checks what can be checked up front (missing or empty file, unknown format, sample
    rate); :meth:`blocks` raises :class:`AudioError` for a stream that breaks later (truncated, corrupt, NaN).
    Use as a context manager.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.is_dir():
            raise AudioError(f"{self.path}: is a folder, not an audio file")
        if not self.path.is_file():
            raise AudioError(f"{self.path}: no such file")
        if self.path.stat().st_size == 0:
            raise AudioError(f"{self.path}: empty file (0 bytes)")
        with self._errors():
            self._file = sf.SoundFile(str(self.path))
        try:
            self.sr = int(self._file.samplerate)
            check_sample_rate(self.sr, self.path)
        except AudioError:
            self._file.close()
            raise
        self.frames = max(self._file.frames, 0)  # the header's count; the stream may deliver more or fewer
        self._dtype, self._scale = _NATIVE_PCM.get(self._file.subtype, ("float64", 1.0))

    def blocks(self) -> Iterator[np.ndarray]:
        """The mono signal in consecutive blocks of ``_BLOCK_FRAMES`` samples (PCM read as integers, scaled once)."""
        with self._errors():
            for block in self._file.blocks(blocksize=_BLOCK_FRAMES, dtype=self._dtype, always_2d=True):
                mono = _mix(block, self._scale)
                if self._dtype == "float64" and not np.all(np.isfinite(mono)):
                    raise AudioError(f"{self.path}: audio contains NaN or infinite samples")
                yield mono

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Decoder failures as :class:`AudioError` naming the file."""
        try:
            yield
        except AudioError:
            raise
        except sf.LibsndfileError as exc:
            raise AudioError(f"{self.path}: {_describe(exc)}") from exc
        except (RuntimeError, TypeError, ValueError) as exc:
            raise AudioError(f"{self.path}: cannot decode audio ({exc})") from exc

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> AudioStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Read ``path`` whole as mono float64 at its native sample rate (no resampling, no normalisation).

    Blocks from :class:`AudioStream` go into one array sized by the header's frame count (capped, in case a corrupt
    header claims an absurd length); should the decoder deliver more, the surplus blocks are appended. So peak
    memory is about the mono signal plus one block, whatever the channel count.
    """
    with AudioStream(path) as stream:
        out = np.empty(min(stream.frames, _PREALLOC_MAX_FRAMES))
        pos, surplus = 0, []
        for block in stream.blocks():
            if pos + len(block) <= len(out) and not surplus:
                out[pos : pos + len(block)] = block
                pos += len(block)
            else:
                surplus.append(block)
    x = np.concatenate([out[:pos], *surplus]) if surplus else out[:pos]
    if len(x) == 0:
        raise AudioError(f"{path}: zero samples")
    return x, stream.sr


def _mix(block: np.ndarray, scale: float) -> np.ndarray:
    """Mean of the channels of a (frames, channels) block, as float64 divided by ``scale``.

    Channels are added one column at a time (a strided ``mean(axis=1)`` is ~10× slower); integer samples sum
    exactly, so one division by scale·channels rounds exactly like the float decode's mean.
    """
    out = block[:, 0].astype(np.float64)
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
    check_duration(len(x), sr, what)
    return x


def check_duration(n_samples: int, sr: int, what: object = "signal") -> None:
    """Raise :class:`AudioError` when ``n_samples`` at ``sr`` last less than :data:`MIN_DURATION_S`."""
    if n_samples < MIN_DURATION_S * sr:
        raise AudioError(f"{what}: too short ({n_samples / sr:.3f} s); need at least {MIN_DURATION_S:g} s")


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
