"""Speed and memory of decode + extract on one core; prints where the time goes.

* a 30-s 44.1 kHz stereo FLAC clip (the reference excerpts): CPU seconds per clip (``process_time``: on a
  machine shared with other jobs wall time mostly measures the others), cold (first call in the process) and
  warm (median of the rest), × realtime, and the wall time for reference;
* a 4-minute track (8 reference excerpts concatenated, written as one stereo FLAC): 8 windows of 30 s;
* a long track (``--long-minutes``, default 60: the excerpts repeated): decoded block by block, so peak memory
  should not grow with its length;
* peak resident memory of the process after each stage (``ru_maxrss``);
* per-feature breakdown: CPU seconds per MIRtoolbox extractor on a decoded 30-s clip (mean of the repeats), each
  stage's share, and inside the two heaviest (attack time: the whole fine curve's ~50 000 float32 FFTs; tempo: the
  float64 gammatone filterbank) the part that dominates.

Thread pools are pinned to one thread before numpy loads, so the figures are per core.

    python bench/extract_speed.py [--repeats 3]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import soundfile as sf  # noqa: E402

from mer.features import attack, gammatone  # noqa: E402
from mer.features.audio import load_audio  # noqa: E402
from mer.features.extract import extract, extract_clip  # noqa: E402

ORACLE_DIR = Path(__file__).resolve().parents[1] / "tests" / "oracle"
TRACK_EXCERPTS = 8  # 8 × 30 s = 4 minutes


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def stereo_30s_excerpts() -> list[Path]:
    """The 30-s stereo 44.1 kHz reference excerpts, in manifest order."""
    m = pd.read_csv(ORACLE_DIR / "manifest.csv")
    keep = (m["duration_s"] == 30.0) & (m["channels"] == 2) & (m["sample_rate"] == 44100)
    return [ORACLE_DIR / f for f in m.loc[keep, "file"]]


def write_long_track(path: Path, excerpts: list[Path], seconds: float) -> float:
    """Write ``excerpts`` one after the other, repeated, until ``seconds`` of stereo FLAC; returns its length.

    Written one excerpt at a time, so the benchmark itself never holds more than 30 s of audio.
    """
    written = 0
    with sf.SoundFile(str(path), "w", samplerate=44100, channels=2, subtype="PCM_16") as out:
        while written < seconds * 44100:
            for p in excerpts:
                audio = sf.read(str(p), dtype="int16", always_2d=True)[0]
                out.write(audio)
                written += len(audio)
                if written >= seconds * 44100:
                    break
    return written / 44100


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    """(CPU seconds of this process, result)."""
    t0 = time.process_time()
    out = fn(*args, **kwargs)
    return time.process_time() - t0, out


def timed_wall(fn, *args, **kwargs) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one call."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn(*args, **kwargs)
    return time.process_time() - c0, time.perf_counter() - w0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3, help="clips timed warm (distinct excerpts)")
    ap.add_argument("--long-minutes", type=int, default=60, help="length of the long track (0: skip it)")
    args = ap.parse_args()
    excerpts = stereo_30s_excerpts()
    if len(excerpts) < max(TRACK_EXCERPTS, args.repeats + 1):
        raise SystemExit(f"need {TRACK_EXCERPTS} 30-s stereo excerpts in {ORACLE_DIR}, found {len(excerpts)}")
    print(f"one core (OMP/OPENBLAS/MKL threads = 1); peak RSS at start {peak_rss_mb():.0f} MB\n")

    # --- 30-s clip: decode + extract ---
    clip_times = [timed_wall(extract, path) for path in excerpts[: args.repeats + 1]]
    cold = clip_times[0][0]
    warm = statistics.median(cpu for cpu, _ in clip_times[1:])
    wall = statistics.median(w for _, w in clip_times[1:])
    print("30-s 44.1 kHz stereo clip (decode + extract, 1 row), CPU time")
    print(f"  cold {cold:6.3f} s   warm median {warm:6.3f} s  over {args.repeats}   "
          f"×realtime {30.0 / warm:6.1f}   (wall {wall:.3f} s)   peak RSS {peak_rss_mb():.0f} MB")

    # --- 4-minute track ---
    with tempfile.TemporaryDirectory() as tmp:
        track = Path(tmp) / "track_4min.flac"
        audio = [sf.read(str(p), dtype="int16", always_2d=True)[0] for p in excerpts[:TRACK_EXCERPTS]]
        sf.write(str(track), np.concatenate(audio), 44100, subtype="PCM_16")
        seconds = sum(len(a) for a in audio) / 44100
        del audio  # the benchmark's own copy must not count in the extractor's peak memory
        t_decode, _ = timed(lambda: len(load_audio(track)[0]))  # keep no decoded copy alive
        t_track, rows = timed(extract, track)
    print(f"\n{seconds / 60:.0f}-minute 44.1 kHz stereo track ({len(rows)} windows of 30 s), CPU time")
    print(f"  decode {t_decode:5.2f} s   decode + extract {t_track:6.2f} s   "
          f"×realtime {seconds / t_track:6.1f}   peak RSS {peak_rss_mb():.0f} MB")

    # --- long track: memory must not grow with the length ---
    if args.long_minutes > 0:
        with tempfile.TemporaryDirectory() as tmp:
            track = Path(tmp) / "track_long.flac"
            written = write_long_track(track, excerpts[:TRACK_EXCERPTS], args.long_minutes * 60)
            t_long, rows = timed(extract, track)
        print(f"\n{written / 60:.0f}-minute 44.1 kHz stereo track ({len(rows)} windows of 30 s), CPU time")
        print(f"  decode + extract {t_long:7.2f} s   ×realtime {written / t_long:6.1f}   "
              f"peak RSS {peak_rss_mb():.0f} MB (whole run so far)")

    # --- where the time goes ---
    timings: dict[str, float] = {}
    decode = 0.0
    for path in excerpts[1 : args.repeats + 1]:
        dt, (x, sr) = timed(load_audio, path)
        decode += dt
        extract_clip(x, sr, timings)
    n = args.repeats
    parts = {"decode (load_audio)": decode / n, **{k: v / n for k, v in timings.items()}}
    total = sum(parts.values())
    print(f"\nper-feature CPU time on a 30-s clip (mean of {n}; total {total:.3f} s)")
    print(f"  {'step':<22} {'seconds':>8} {'share':>7}")
    for step, sec in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"  {step:<22} {sec:8.3f} {sec / total:7.1%}")
    inner_stages(excerpts[1 : args.repeats + 1], total)


def _run_filterbank(x: np.ndarray, sr: int) -> int:
    """Filter every channel (one at a time, as tempo does), keeping none."""
    return sum(len(channel) for channel in gammatone.iter_gammatone(x, sr))


def inner_stages(paths: list[Path], total: float) -> None:
    """Inside attack time and tempo: the fine curve's FFTs and the gammatone filterbank, per clip."""
    fine = bank = 0.0
    for path in paths:
        x, sr = load_audio(path)
        dt, _ = timed(attack.fine_curve, x, sr)
        fine += dt
        dt, _ = timed(_run_filterbank, x, sr)
        bank += dt
    n = len(paths)
    print("\n  inside: attack time's fine curve (30 ms / 0.6 ms frames, float32 FFTs) "
          f"{fine / n:.3f} s ({fine / n / total:.1%}); tempo's 10-channel float64 gammatone filterbank "
          f"{bank / n:.3f} s ({bank / n / total:.1%})")


if __name__ == "__main__":
    main()
