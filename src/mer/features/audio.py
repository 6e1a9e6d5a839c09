"""Decoding audio the way ``miraudio`` reads it — floats in [-1, 1], channels mixed by their mean — and bringing it
to the analysis rate.

Formats: WAV, FLAC, AIFF, OGG/Vorbis, Opus and MP3 through ``soundfile`` (libsndfile is bundled in its wheel);
M4A/AAC (and ALAC in M4A) through PyAV, whose wheel bundles FFmpeg: no system package for either. A file is
decoded block by block (:class:`AudioStream`), so a long track is never held whole.

Sample rate (measured by ``bench/stability.py``, README "Features from audio"): by default every signal is
resampled to :data:`TARGET_SAMPLE_RATE` = 44.1 kHz, the rate the training data was most likely made at, before
any feature sees it; 44.1 kHz input passes through untouched (bit-identical). Resampling is a windowed-sinc
polyphase filter (``scipy.signal.resample_poly`` with our Kaiser filter: flat to 0.95 × the lower Nyquist, −88 dB
from 1.06 × Nyquist on) run block by block with exactly the output of resampling the whole signal. ``sample_rate=None``
keeps the native rate, as MIRtoolbox does.

Checks that make a signal usable for the 50 features, so every way in (a file, an array) fails the same way,
with an :class:`AudioError` whose message names the file and the reason:

* **Source rate ≥ 16 kHz** (:data:`MIN_SAMPLE_RATE`). Analysed at 44.1 kHz, every feature is computed on the band
  it was made for whatever the source rate, so the floor is about what the source holds, which resampling cannot
  bring back: a 16 kHz source lacks everything above 8 kHz, and its spectral shape and flatness move far (1-3 UCI
  standard deviations), yet its labels agree with the 44.1 kHz original as often as a 128 kbit/s MP3's do
  (``bench/stability.py``); lower rates were not measured and are refused.
  With ``sample_rate=None`` (native analysis, MIRtoolbox's way) the floor is :data:`MIN_NATIVE_SAMPLE_RATE` =
  12.8 kHz: below it the chromagram's 6400 Hz band edge lies above Nyquist and the chroma would be computed on
  another band than the training data's.
* **At least 1 s of audio** (:data:`MIN_DURATION_S`). Shorter clips have no HCDF frame pair (0.82 s) and no
  tempo lag range (up to 1.5 s); a clip of 1-2 s still gives a row, with NaN where a feature needs more, and
  the out-of-distribution guard flags it.
* **Finite samples.** A float file holding NaN or inf would silently poison every feature.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import firwin, resample_poly

TARGET_SAMPLE_RATE = 44_100  # the analysis rate by default (None: native)
MIN_SAMPLE_RATE = 16_000  # lowest source rate when resampling to TARGET_SAMPLE_RATE (measured: module docstring)
MIN_NATIVE_SAMPLE_RATE = 12_800  # lowest rate analysed natively (chromagram band edge 6400 Hz = Nyquist)
MIN_DURATION_S = 1.0
PYAV_EXTENSIONS: tuple[str, ...] = (".m4a", ".aac")
AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".opus", *PYAV_EXTENSIONS)
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
# resampling filter: Kaiser-windowed sinc (beta 8.6), 48 zero crossings each side, cut off at the lower rate's
# Nyquist: flat (0.01 dB) to 0.95 × Nyquist (21 kHz at 44.1 kHz), −6 dB at Nyquist, ≤ −88 dB from 1.06 × Nyquist
# on. Spectral flatness reads the top bins, so the band up to Nyquist is kept rather than guarded: a cut-off at
# 0.93 × Nyquist (no aliasing at all) doubled the flatness change of 48 kHz copies (bench/stability.py)
_FILTER_ZEROS = 48
_FILTER_BETA = 8.6
_FILTER_CUTOFF = 1.0


class AudioError(ValueError):
    """A file or signal that cannot be turned into usable audio; the message says why."""


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says: native rate, channel count, frames (0 when unknown) and duration."""

    sample_rate: int
    channels: int
    frames: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else float("nan")


class AudioStream:
    """An audio file opened for reading as mono float64 blocks, the way :func:`load_audio` reads it whole.

    Why: a track is analysed window by window, so it need not sit in memory whole (an hour at 44.1 kHz is 1.3 GB
    as mono float64). Opening checks what can be checked up front (missing or empty file, unknown format, sample
    rate); :meth:`blocks` raises :class:`AudioError` for a stream that breaks later (truncated, corrupt, NaN).
    ``sample_rate``: the rate of the blocks (resampled from the file's ``native_sr``), or None for the native rate.
    Use as a context manager.
    """

    def __init__(self, path: str | Path, sample_rate: int | None = None):
        self.path = Path(path)
        if self.path.is_dir():
            raise AudioError(f"{self.path}: is a folder, not an audio file")
        if not self.path.is_file():
            raise AudioError(f"{self.path}: no such file")
        if self.path.stat().st_size == 0:
            raise AudioError(f"{self.path}: empty file (0 bytes)")
        with self._errors():
            self._reader: _Reader = _PyAVReader(self.path) if _wants_pyav(self.path) else _SoundfileReader(self.path)
        try:
            self.native_sr = self._reader.info.sample_rate
            check_sample_rate(self.native_sr, self.path, sample_rate)
        except AudioError:
            self._reader.close()
            raise
        self.info = self._reader.info
        self.sr = int(sample_rate or self.native_sr)
        # the header's count at the output rate; the stream may deliver more or fewer
        self.frames = math.ceil(max(self.info.frames, 0) * self.sr / self.native_sr)

    def blocks(self) -> Iterator[np.ndarray]:
        """The mono signal in consecutive blocks (≈ ``_BLOCK_FRAMES`` samples), at :attr:`sr`."""
        with self._errors():
            yield from resample_blocks(self._reader.blocks(), self.native_sr, self.sr)

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
        self._reader.close()

    def __enter__(self) -> AudioStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Reader:
    """One decoder: ``info`` after opening, mono float64 blocks at the native rate, ``close``."""

    info: AudioInfo

    def blocks(self) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _SoundfileReader(_Reader):
    """libsndfile: WAV, FLAC, AIFF, OGG/Vorbis, Opus, MP3. PCM is read as integers and scaled once."""

    def __init__(self, path: Path):
        self.path = path
        self._file = sf.SoundFile(str(path))
        self.info = AudioInfo(int(self._file.samplerate), int(self._file.channels), max(int(self._file.frames), 0))
        self._dtype, self._scale = _NATIVE_PCM.get(self._file.subtype, ("float64", 1.0))

    def blocks(self) -> Iterator[np.ndarray]:
        for block in self._file.blocks(blocksize=_BLOCK_FRAMES, dtype=self._dtype, always_2d=True):
            mono = _mix(block, self._scale)
            if self._dtype == "float64" and not np.all(np.isfinite(mono)):
                raise AudioError(f"{self.path}: audio contains NaN or infinite samples")
            yield mono

    def close(self) -> None:
        self._file.close()


class _PyAVReader(_Reader):
    """FFmpeg through PyAV for what libsndfile cannot read: AAC (or ALAC) in M4A/MP4, raw ADTS AAC.

    The first audio stream is decoded frame by frame (FFmpeg applies the file's edit list, so the encoder's
    priming samples are dropped) and gathered into blocks of about ``_BLOCK_FRAMES`` samples.
    """

    def __init__(self, path: Path):
        import av  # ~0.1 s to import: only when an M4A/AAC file is read

        self.path = path
        try:
            self._container = av.open(str(path), mode="r")
        except av.error.FFmpegError as exc:
            reason = _av_reason(exc)
            raise AudioError(f"{path}: not a recognised audio format (corrupt, or not audio at all: {reason})") from exc
        if not self._container.streams.audio:
            self._container.close()
            raise AudioError(f"{path}: no audio stream in this file")
        self._stream = self._container.streams.audio[0]
        ctx = self._stream.codec_context
        sr, channels = int(ctx.sample_rate or 0), int(ctx.channels or 0)
        if sr <= 0 or channels <= 0:
            self._container.close()
            raise AudioError(f"{path}: not a recognised audio format (no sample rate or channel count)")
        if self._stream.duration is not None and self._stream.time_base is not None:
            seconds = float(self._stream.duration * self._stream.time_base)
        else:
            seconds = (self._container.duration or 0) / av.time_base
        self.info = AudioInfo(sr, channels, max(round(seconds * sr), 0))
        self._av = av

    def blocks(self) -> Iterator[np.ndarray]:
        pending: list[np.ndarray] = []
        n = 0
        try:
            for frame in self._container.decode(self._stream):
                if frame.sample_rate != self.info.sample_rate:
                    raise AudioError(f"{self.path}: sample rate changes inside the stream "
                                     f"({self.info.sample_rate} → {frame.sample_rate} Hz)")
                pending.append(_frame_mono(frame))
                n += len(pending[-1])
                if n >= _BLOCK_FRAMES:
                    yield _checked(np.concatenate(pending), self.path)
                    pending, n = [], 0
        except self._av.error.FFmpegError as exc:
            raise AudioError(f"{self.path}: corrupt or truncated audio stream ({_av_reason(exc)})") from exc
        if pending:
            yield _checked(np.concatenate(pending), self.path)

    def close(self) -> None:
        self._container.close()


def _wants_pyav(path: Path) -> bool:
    """PyAV for the M4A/AAC extensions, and for any file whose first box is an ISO-BMFF ``ftyp`` (an M4A renamed)."""
    if path.suffix.lower() in PYAV_EXTENSIONS:
        return True
    with open(path, "rb") as f:
        return f.read(12)[4:8] == b"ftyp"


def _frame_mono(frame) -> np.ndarray:  # noqa: ANN001 — an av.AudioFrame
    """A decoded PyAV frame as mono float64: planar (channels, n) or packed (1, n·channels), ints scaled to ±1."""
    a = frame.to_ndarray()
    channels = frame.layout.nb_channels
    if not frame.format.is_planar:
        a = a.reshape(-1, channels).T
    if a.dtype.kind == "u":  # u8: centred on 128
        a = (a.astype(np.float64) - 128.0) / 128.0
    elif a.dtype.kind == "i":
        a = a.astype(np.float64) / 2.0 ** (8 * a.dtype.itemsize - 1)
    a = np.asarray(a, dtype=np.float64)
    return a[0].copy() if channels == 1 else a.mean(axis=0)


def _checked(mono: np.ndarray, path: Path) -> np.ndarray:
    if not np.all(np.isfinite(mono)):
        raise AudioError(f"{path}: audio contains NaN or infinite samples")
    return mono


def _av_reason(exc: Exception) -> str:
    return str(getattr(exc, "strerror", "") or exc).strip()


def audio_info(path: str | Path) -> AudioInfo:
    """The header of an audio file (native rate, channels, frames) from the decoder that reads it."""
    with AudioStream(path, sample_rate=None) as stream:
        return stream.info


def load_audio(path: str | Path, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Read ``path`` whole as mono float64 (no normalisation), at its native rate or resampled to ``sample_rate``.

    Blocks from :class:`AudioStream` go into one array sized by the header's frame count (capped, in case a corrupt
    header claims an absurd length); should the decoder deliver more, the surplus blocks are appended. So peak
    memory is about the mono signal plus one block, whatever the channel count.
    """
    with AudioStream(path, sample_rate) as stream:
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


# --- resampling ---


def _ratio(sr_in: int, sr_out: int) -> tuple[int, int]:
    g = math.gcd(sr_in, sr_out)
    return sr_out // g, sr_in // g


@lru_cache(maxsize=8)
def _filter(up: int, down: int) -> np.ndarray:
    """The anti-aliasing / anti-imaging low-pass at the lower rate's Nyquist, at the up-sampled rate."""
    m = max(up, down)
    return firwin(2 * _FILTER_ZEROS * m + 1, _FILTER_CUTOFF / m, window=("kaiser", _FILTER_BETA))


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """The whole mono signal ``x`` from ``sr_in`` to ``sr_out`` Hz (a copy-free pass-through when equal).

    Output sample ``m`` sits at input time ``m · sr_in / sr_out``; ``ceil(len(x) · sr_out / sr_in)`` samples.
    """
    up, down = _ratio(sr_in, sr_out)
    if up == down:
        return x
    return resample_poly(x, up, down, window=_filter(up, down))


def resample_blocks(blocks: Iterable[np.ndarray], sr_in: int, sr_out: int) -> Iterator[np.ndarray]:
    """:func:`resample` of the concatenated ``blocks``, computed block by block (the blocks pass through when the
    rates are equal).

    Output ``m`` depends on inputs within ``half / up`` samples of ``m·down/up`` (``half``: the filter's
    half-length). Each step resamples the samples held since the last input position that is a multiple of
    ``down`` and lies before every input the next outputs need (a multiple of ``down`` keeps the filter's phase
    where the whole-signal run has it), and emits the outputs whose inputs have all arrived; the end is padded
    with zeros exactly as the whole-signal run pads it.
    """
    up, down = _ratio(sr_in, sr_out)
    if up == down:
        yield from blocks
        return
    h = _filter(up, down)
    half = (len(h) - 1) // 2
    held, held_start, n_in, m_next = np.zeros(0), 0, 0, 0

    def emit(m_end: int) -> np.ndarray:
        nonlocal held, held_start, m_next
        s0 = max(0, (m_next * down - half) // up) // down * down  # ≤ every input output m_next needs
        y = resample_poly(held[s0 - held_start :], up, down, window=h)
        m0 = s0 * up // down
        out = y[m_next - m0 : m_end - m0]
        m_next = m_end
        keep = max(0, (m_next * down - half) // up) // down * down
        held, held_start = held[keep - held_start :], keep
        return out

    for block in blocks:
        if len(block) == 0:
            continue
        held = np.concatenate([held, block]) if len(held) else np.asarray(block, dtype=np.float64)
        n_in += len(block)
        m_end = (n_in * up - half - 1) // down + 1  # outputs whose whole support has arrived
        if m_end > m_next:
            yield emit(m_end)
    n_out = -(-n_in * up // down)
    if n_out > m_next:
        yield emit(n_out)


# --- checks ---


def check_sample_rate(sr: int, what: object = "signal", sample_rate: int | None = None) -> None:
    """Raise :class:`AudioError` when a source at ``sr`` Hz cannot be analysed: below :data:`MIN_SAMPLE_RATE` when
    it is resampled to ``sample_rate``, below :data:`MIN_NATIVE_SAMPLE_RATE` when analysed natively (None)."""
    if sample_rate is not None and sample_rate < MIN_NATIVE_SAMPLE_RATE:
        raise ValueError(f"analysis sample rate {sample_rate} Hz is below {MIN_NATIVE_SAMPLE_RATE} Hz")
    floor = MIN_NATIVE_SAMPLE_RATE if sample_rate is None else MIN_SAMPLE_RATE
    if sr < floor:
        why = ("the chromagram needs the band up to 6400 Hz" if sample_rate is None else
               "the band the spectral features read is mostly missing and resampling cannot restore it")
        raise AudioError(f"{what}: sample rate {sr} Hz is below the minimum {floor} Hz ({why})")


def check_signal(
    x: np.ndarray, sr: int, what: object = "signal", sample_rate: int | None = None
) -> np.ndarray:
    """Validate a mono signal at ``sr`` Hz for feature extraction and return it as contiguous float64.

    ``sample_rate``: the rate it will be resampled to (None: analysed at ``sr``), which sets the minimum source
    rate (:func:`check_sample_rate`). Raises :class:`AudioError` for a non-1-D array, a rate below that minimum,
    non-finite samples, or fewer than :data:`MIN_DURATION_S` seconds.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise AudioError(f"{what}: expected a mono 1-D signal, got shape {x.shape}")
    check_sample_rate(sr, what, sample_rate)
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
