"""Audio → the 50 features, per clip and per window of a track: the library's public entry point.

The UCI dataset was made by running 20 MIRtoolbox 1.7.1 extractors with default arguments on each whole 30-s
excerpt (``shared/mirtoolbox-features.md`` §0). :func:`extract_clip` does that for one clip, computing the
whole-file spectrum once and sharing it (magnitude for the spectral features and MFCC, complex for the
chromagram). :func:`extract` cuts a track into windows the size of the dataset's excerpts;
:func:`extract_many` runs a batch in which a bad file yields an error record instead of stopping the others.

Windows (:func:`windows`): a signal no longer than one window gives exactly one row on the whole signal
(as the dataset was made, so a 26.8-s file is analysed whole, not padded). A longer one gives full windows at
every hop; if audio is left uncovered after the last full window, one final window from the next hop position
to the end is kept when it lasts at least ``min_last_s`` (and at least ``audio.MIN_DURATION_S``), flagged
``partial``.
Decoding, mono mixing and the minimum sample rate and duration live in :mod:`mer.features.audio`; the
out-of-distribution flags in :mod:`mer.features.ood`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from mer.features import attack, chroma, dynamics, fluctuation, mfcc, ood, roughness, spectral, tempo
from mer.features.audio import (
    MIN_DURATION_S,
    TARGET_SAMPLE_RATE,
    AudioError,
    AudioStream,
    check_duration,
    check_signal,
    resample,
    to_mono,
)
from mer.features.blocks import hamming_spectrum
from mer.features.envelope import Envelope
from mer.schema import FEATURE_NAMES, FEATURES

DEFAULT_WINDOW_S = 30.0
DEFAULT_HOP_S = 30.0
DEFAULT_MIN_LAST_S = 10.0
ARRAY_LABEL = "<array>"
WINDOW_COLUMNS: tuple[str, ...] = ("file", "start_s", "end_s")
FLAG_COLUMNS: tuple[str, ...] = ("partial", "ood", "ood_features")
COLUMNS: tuple[str, ...] = (*WINDOW_COLUMNS, *FEATURE_NAMES, *FLAG_COLUMNS)

Value = float | np.ndarray | Mapping[str, float]


@dataclass(frozen=True)
class Clip:
    """One analysis window and what several features share: its whole-clip Hamming spectrum (one FFT), its
    shape statistics and entropy, and, computed on first use, the ``mironsets`` curve that event density and
    attack time and pulse clarity start from."""

    x: np.ndarray
    sr: int
    freqs: np.ndarray
    spectrum: np.ndarray  # complex rfft of x·Hamming, zero-padded to 2^nextpow2 (the chromagram reuses it)
    mag: np.ndarray  # |spectrum| — what mirspectrum returns, for the spectral features and MFCC
    shape: Mapping[str, float]  # ungated centroid, spread, skewness, kurtosis in one pass

    @classmethod
    def of(cls, x: np.ndarray, sr: int) -> Clip:
        freqs, spec = hamming_spectrum(x, sr)
        mag = np.abs(spec)
        return cls(x, sr, freqs, spec, mag, spectral.spectral_shape(freqs, mag))

    @cached_property
    def onsets(self) -> Envelope:
        return attack.onset_curve(self.x, self.sr)

    @cached_property
    def entropy(self) -> float:  # mirentropy, and the gate of mircentroid
        return spectral.entropy(self.freqs, self.mag)


# One line per MIRtoolbox extractor, in mirexport's order; the columns each fills come from schema.FEATURES
# (grouped by their ``source``). A Mapping result (mirstat statistics) is read by each column's last
# "_"-separated part (Mean, Std, Slope, ...); an array result fills its columns in order.
EXTRACTORS: dict[str, Callable[[Clip], Value]] = {
    "mirrms": lambda c: dynamics.rms(c.x, c.sr),
    "mirlowenergy": lambda c: dynamics.lowenergy(c.x, c.sr),
    "mirfluctuation": lambda c: fluctuation.fluctuation(c.x, c.sr),
    "mirtempo": lambda c: tempo.tempo(c.x, c.sr),
    "mirmfcc": lambda c: mfcc.mfcc(c.freqs, c.mag),
    "mirroughness": lambda c: roughness.roughness(c.x, c.sr),
    "mirzerocross": lambda c: dynamics.zerocross(c.x, c.sr),
    "mirattacktime": lambda c: attack.attack_time(c.x, c.sr, c.onsets),
    "mirrolloff": lambda c: spectral.rolloff(c.freqs, c.mag),
    "mireventdensity": lambda c: attack.event_density(c.x, c.sr, c.onsets),
    "mirpulseclarity": lambda c: tempo.pulse_clarity(c.x, c.sr, curve=c.onsets),
    "mirbrightness": lambda c: spectral.brightness(c.freqs, c.mag),
    "mircentroid": lambda c: spectral.centroid(c.freqs, c.mag, entropy_value=c.entropy, shape=c.shape),
    "mirspread": lambda c: c.shape["spread"],
    "mirskewness": lambda c: c.shape["skewness"],
    "mirkurtosis": lambda c: c.shape["kurtosis"],
    "mirflatness": lambda c: spectral.flatness(c.freqs, c.mag),
    "mirentropy": lambda c: c.entropy,
    "mirchromagram": lambda c: chroma.chromagram(c.x, c.sr, spectrum=c.spectrum),
    "mirhcdf": lambda c: chroma.hcdf(c.x, c.sr),
}
COLUMNS_OF: dict[str, tuple[str, ...]] = {
    source: tuple(f.name for f in FEATURES if f.source == source)
    for source in dict.fromkeys(f.source for f in FEATURES)
}
assert list(EXTRACTORS) == list(COLUMNS_OF), "EXTRACTORS must cover schema.FEATURES' sources in their order"


def _columns(source: str, value: Value) -> dict[str, float]:
    columns = COLUMNS_OF[source]
    if isinstance(value, Mapping):
        return {c: float(value[c.rsplit("_", 1)[1]]) for c in columns}
    values = np.atleast_1d(np.asarray(value, dtype=float))
    if len(values) != len(columns):
        raise ValueError(f"{source} returned {len(values)} values for {len(columns)} columns")
    return {c: float(v) for c, v in zip(columns, values, strict=True)}


def extract_clip(x: np.ndarray, sr: int, timings: dict[str, float] | None = None) -> dict[str, float]:
    """The 50 features of one mono clip, in UCI order, as MIRtoolbox 1.7.1 computes them on the whole clip.

    ``timings``, when given, accumulates CPU seconds per MIRtoolbox extractor, plus ``"spectrum"`` (the shared
    FFT, its shape statistics and entropy) and ``"onset curve"`` (shared by event density, attack time and pulse
    clarity) — for the speed benchmark.
    Raises :class:`AudioError` for an unusable signal (see ``audio``).
    """
    x = check_signal(x, sr)
    t0 = time.process_time()
    clip = Clip.of(x, sr)
    if timings is not None:  # time the shared parts on their own, not inside their first user
        _ = clip.entropy
        timings["spectrum"] = timings.get("spectrum", 0.0) + time.process_time() - t0
        t0 = time.process_time()
        _ = clip.onsets
        timings["onset curve"] = timings.get("onset curve", 0.0) + time.process_time() - t0
    row: dict[str, float] = {}
    for source, compute in EXTRACTORS.items():
        t0 = time.process_time()
        row.update(_columns(source, compute(clip)))
        if timings is not None:
            timings[source] = timings.get(source, 0.0) + time.process_time() - t0
    return {name: row[name] for name in FEATURE_NAMES}


@dataclass(frozen=True)
class Window:
    """Samples [start, stop) of a signal; ``partial`` marks a final window shorter than the window length."""

    start: int
    stop: int
    partial: bool = False


def check_settings(window_s: float, hop_s: float, min_last_s: float, ood_margin: float = 0.0) -> None:
    """Raise ValueError for window settings (or an OOD margin) that cannot work."""
    if not (window_s > 0 and hop_s > 0 and min_last_s >= 0 and ood_margin >= 0):
        raise ValueError(
            "need window > 0, hop > 0, min_last >= 0, ood_margin >= 0; "
            f"got {window_s}, {hop_s}, {min_last_s}, {ood_margin}"
        )


class WindowPlanner:
    """The window rules (module docstring) applied as samples arrive: a stream's length is known only at its end.

    :meth:`feed` returns the full windows that the samples so far complete; :meth:`finish` the window that only
    the end decides (the whole signal when it is no longer than one window, or the flagged partial one).
    """

    def __init__(self, sr: int, window_s: float, hop_s: float, min_last_s: float):
        check_settings(window_s, hop_s, min_last_s)
        self.length, self.hop = round(window_s * sr), max(1, round(hop_s * sr))
        self.min_tail = max(min_last_s, MIN_DURATION_S) * sr
        self.n_samples = 0
        self.next_start = 0  # where the next window starts; nothing before it is needed any more
        self._last_full: int | None = None

    def feed(self, n_new: int) -> list[Window]:
        self.n_samples += n_new
        out = []
        while self.next_start + self.length <= self.n_samples:
            out.append(Window(self.next_start, self.next_start + self.length))
            self._last_full = self.next_start
            self.next_start += self.hop
        return out

    def finish(self) -> list[Window]:
        n = self.n_samples
        if self._last_full is None:
            return [Window(0, n)]
        if self._last_full + self.length < n and n - self.next_start >= self.min_tail:
            return [Window(self.next_start, n, partial=True)]
        return []


def windows(
    n_samples: int,
    sr: int,
    window_s: float = DEFAULT_WINDOW_S,
    hop_s: float = DEFAULT_HOP_S,
    min_last_s: float = DEFAULT_MIN_LAST_S,
) -> list[Window]:
    """The analysis windows of a signal of ``n_samples`` at ``sr`` (rules in the module docstring)."""
    planner = WindowPlanner(sr, window_s, hop_s, min_last_s)
    return planner.feed(n_samples) + planner.finish()


def _windowed_clips(
    blocks: Iterable[np.ndarray], sr: int, planner: WindowPlanner, what: object
) -> Iterator[tuple[Window, np.ndarray]]:
    """(window, samples) for consecutive mono ``blocks``, holding only the samples a window may still need.

    Blocks are joined only when a window is due, so a signal shorter than one window is copied once, not once per
    block.
    """
    pending: list[np.ndarray] = []  # consecutive samples from ``start`` on
    start = 0

    def joined() -> np.ndarray:
        return pending[0] if len(pending) == 1 else np.concatenate(pending) if pending else np.zeros(0)

    for block in blocks:
        pending.append(block)
        due = planner.feed(len(block))
        if due:
            buf = joined()
            for w in due:
                yield w, buf[w.start - start : w.stop - start]
            drop = min(planner.next_start - start, len(buf))
            pending, start = [buf[drop:]], start + drop
    if planner.n_samples == 0:
        raise AudioError(f"{what}: zero samples")
    check_duration(planner.n_samples, sr, what)
    buf = joined()
    for w in planner.finish():
        yield w, buf[w.start - start : w.stop - start]


def extract(
    source: str | Path | np.ndarray,
    sr: int | None = None,
    *,
    window_s: float = DEFAULT_WINDOW_S,
    hop_s: float = DEFAULT_HOP_S,
    min_last_s: float = DEFAULT_MIN_LAST_S,
    ood_margin: float = ood.DEFAULT_MARGIN,
    name: str | None = None,
    sample_rate: int | None = TARGET_SAMPLE_RATE,
) -> pd.DataFrame:
    """Feature rows of one file or sample array, one per window (columns :data:`COLUMNS`).

    ``source`` is a path (decoded with channels averaged, one block at a time so a long track is never held whole)
    or an array — 1-D, or (frames, channels) — with its rate ``sr``. Either is resampled to ``sample_rate``
    (default 44.1 kHz; None keeps the native rate: ``audio`` module docstring). ``name`` overrides the
    ``file`` column. Raises :class:`AudioError` when the audio is unusable (also when a file breaks after its
    first windows: a file gives all its rows or an error).
    """
    check_settings(window_s, hop_s, min_last_s, ood_margin)  # before decoding: fail fast on bad settings
    with ExitStack() as stack:
        if isinstance(source, str | Path):
            if sr is not None:
                raise ValueError("sr is read from the file; pass it only with a sample array")
            stream = stack.enter_context(AudioStream(source, sample_rate))
            label, rate, blocks = name or str(source), stream.sr, stream.blocks()
        else:
            if sr is None:
                raise ValueError("a sample array needs its sample rate: extract(x, sr)")
            label, native = name or ARRAY_LABEL, int(sr)
            rate = int(sample_rate or native)
            blocks = [resample(check_signal(to_mono(source, label), native, label, sample_rate), native, rate)]
        planner = WindowPlanner(rate, window_s, hop_s, min_last_s)
        rows = [
            {"file": label, "start_s": w.start / rate, "end_s": w.stop / rate, **extract_clip(clip, rate),
             "partial": w.partial}
            for w, clip in _windowed_clips(blocks, rate, planner, label)
        ]
    table = pd.DataFrame(rows, columns=[*WINDOW_COLUMNS, *FEATURE_NAMES, "partial"])
    return pd.concat([table, ood.flag_frame(table, ood_margin)], axis=1)[list(COLUMNS)]


@dataclass(frozen=True)
class FileResult:
    """One file of a batch: its rows, or the reason it gave none."""

    file: str
    rows: pd.DataFrame | None = None
    error: str | None = None
    seconds: float = field(default=0.0, compare=False)

    @property
    def ok(self) -> bool:
        return self.error is None


def extract_many(
    paths: Iterable[str | Path],
    *,
    window_s: float = DEFAULT_WINDOW_S,
    hop_s: float = DEFAULT_HOP_S,
    min_last_s: float = DEFAULT_MIN_LAST_S,
    ood_margin: float = ood.DEFAULT_MARGIN,
    sample_rate: int | None = TARGET_SAMPLE_RATE,
) -> Iterator[FileResult]:
    """:func:`extract` over many files, one :class:`FileResult` per file, in order.

    Any failure of one file — undecodable audio, or an unexpected error inside a feature — becomes that file's
    error record; the batch always carries on.
    """
    check_settings(window_s, hop_s, min_last_s, ood_margin)  # a settings error stops the batch at once
    for path in paths:
        label, t0 = str(path), time.perf_counter()
        try:
            rows = extract(path, window_s=window_s, hop_s=hop_s, min_last_s=min_last_s, ood_margin=ood_margin,
                           sample_rate=sample_rate)
        except AudioError as exc:
            error = str(exc).removeprefix(f"{label}: ")
        except Exception as exc:  # noqa: BLE001 — a bug on one odd file must not stop the batch
            error = f"feature extraction failed: {type(exc).__name__}: {exc}"
        else:
            yield FileResult(label, rows=rows, seconds=time.perf_counter() - t0)
            continue
        yield FileResult(label, error=error, seconds=time.perf_counter() - t0)
