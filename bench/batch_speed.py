"""Batch scoring speed with the registered champion: features-CSV rows/s, audio × realtime locally and on Dask.

* **features CSV**: ``--rows`` rows (default 200,000) made by repeating the UCI rows, scored end to end by
  ``mer.batch.features_csv`` (read + parse + model + decide + Parquet) with 1 and 2 worker processes; then where the
  time goes: the model's own ``predict_proba`` on the same rows, the pipeline with a constant stand-in model (its own
  cost without the model), and — when ``mer.model.fast_predict`` is present — the compiled champion.
* **audio**: the real-music reference clips ``tests/oracle/wesnoth_*.flac`` (or Debian's ``wesnoth-1.16-music`` if
  installed, ``--debian``), scored end to end (decode, 50 features, model, parts, merge) with 1 and 2 local worker
  processes; audio seconds per wall second (× realtime), pool start-up included.
* **Dask**: the same audio on a local Dask cluster of 1 and of 2 worker processes (started and warmed before the
  clock starts, then used by address as a remote cluster would be), and the speed-up of 2 over 1 (goal ≥ 1.8×).

Needs a champion (``mer run``). The machine's load average is printed: on a shared machine the figures move with it.

    python bench/batch_speed.py [--rows 200000] [--files 12] [--debian]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / "tests" / "oracle"
UCI = ROOT / "data" / "raw" / "acoustic_features.csv"
DEBIAN_MUSIC = Path("/usr/share/games/wesnoth/1.16/data/core/music")


def load() -> object:
    from mer.batch import NoModel, load_model

    t0 = time.perf_counter()
    try:
        loaded = load_model()
    except NoModel as exc:
        raise SystemExit(f"{exc}") from None
    print(f"champion {loaded.name} v{loaded.version} loaded in {time.perf_counter() - t0:.1f} s "
          f"({type(loaded.model).__name__})")
    return loaded


def features_csv(loaded, rows: int, tmp: Path) -> None:
    from sklearn.dummy import DummyClassifier

    from mer.batch.features_csv import score_features_csv
    from mer.batch.inputs import resolve_input
    from mer.schema import FEATURE_NAMES
    from mer.scoring import Scorer
    from mer.settings import DecisionSettings

    uci = pd.read_csv(UCI)
    big = pd.concat([uci] * (rows // len(uci) + 1), ignore_index=True).head(rows)
    csv = tmp / "features.csv"
    big.to_csv(csv, index=False)
    source = resolve_input(csv)
    print(f"\n== features CSV: {rows:,} rows ({csv.stat().st_size / 1e6:.0f} MB), chunks of 50,000 ==")

    def timed(model, name: str, workers: int) -> float:
        out = tmp / f"{name}-{workers}.parquet"
        t0 = time.perf_counter()
        scorer = Scorer(model, loaded.name, loaded.version, loaded.alias)
        result = score_features_csv(csv, source.dialect, out, scorer, DecisionSettings(), workers=workers)
        dt = time.perf_counter() - t0
        assert result.rows_scored == rows
        print(f"  {name:<34} workers={workers}: {dt:6.2f} s  {rows / dt:>10,.0f} rows/s")
        return dt

    timed(loaded.model, "champion, end to end", 1)
    timed(loaded.model, "champion, end to end", 2)
    X = big[list(FEATURE_NAMES)].astype(float)
    t0 = time.perf_counter()
    loaded.model.predict_proba(X)
    dt = time.perf_counter() - t0
    print(f"  {'champion predict_proba alone':<34}           {dt:6.2f} s  {rows / dt:>10,.0f} rows/s")
    stand_in = DummyClassifier(strategy="prior").fit(X.head(400), uci["Class"].str.lower().head(400))
    timed(stand_in, "pipeline only (constant model)", 1)
    try:
        from mer.model.fast_predict import probe_rows, verified
    except ImportError:
        return
    fast = verified(loaded.model, probe_rows())
    t0 = time.perf_counter()
    fast.predict_proba(X)
    dt = time.perf_counter() - t0
    print(f"  {'compiled champion predict_proba':<34}           {dt:6.2f} s  {rows / dt:>10,.0f} rows/s")
    timed(fast, "compiled champion, end to end", 1)


def audio_files(files: int, debian: bool) -> list[Path]:
    if debian:
        if not DEBIAN_MUSIC.is_dir():
            raise SystemExit(f"{DEBIAN_MUSIC}: not installed (apt-get install wesnoth-1.16-music)")
        found = sorted(p for p in DEBIAN_MUSIC.glob("*.ogg") if p.name != "silence.ogg")
    else:
        found = sorted(p for p in ORACLE.glob("wesnoth_*.flac") if p.name != "wesnoth_silence.flac")
    return found[:files]


def audio_run(loaded, files: list[Path], tmp: Path, tag: str, workers: int = 1, dask: str | None = None) -> float:
    from mer.batch import BatchOptions, InputKind, run_batch
    from mer.batch.inputs import BatchInput

    out = tmp / f"{tag}.parquet"
    source = BatchInput(files[0].parent, InputKind.AUDIO, audio=files)
    report = run_batch(source, out, loaded, BatchOptions(workers=workers, dask=dask, part_size=4))
    assert report.scored == len(files) and report.failed == 0, report.errors
    speed = report.audio_s / report.seconds
    print(f"  {tag:<34} {report.seconds:6.1f} s for {report.audio_s:.0f} s of audio: {speed:5.2f}x realtime; "
          f"{report.busy_s / report.seconds:.2f} files in flight on average, {report.cpu_s / report.seconds:.2f} cores "
          "used")
    return report.seconds


def pool_startup(loaded, workers: int) -> float:
    """Seconds until every process of a fresh local pool has started and holds the model."""
    from mer.batch.executors import LocalProcesses
    from mer.batch.work import ScoreSettings
    from mer.settings import DecisionSettings

    t0 = time.perf_counter()
    with LocalProcesses(loaded, ScoreSettings(loaded.name, loaded.version, DecisionSettings()), workers) as ex:
        assert ex.pool is not None
        list(ex.pool.map(time.sleep, [0.5] * workers))  # each worker must be up (and initialised) to run one
    return time.perf_counter() - t0 - 0.5


def dask_cluster(n: int):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None)
    client = Client(cluster)
    client.run(lambda: __import__("mer.scoring") and __import__("mer.features.extract"))  # warm the workers
    return cluster, client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=12, help="audio files per run (30-s clips)")
    parser.add_argument("--debian", action="store_true", help="use Debian's wesnoth-1.16-music tracks")
    parser.add_argument("--skip", choices=["features", "audio", "dask"], action="append", default=[])
    args = parser.parse_args()
    print(f"cores: {len(os.sched_getaffinity(0))}, load average before: {os.getloadavg()[0]:.2f}")
    loaded = load()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        if "features" not in args.skip:
            features_csv(loaded, args.rows, tmp)
        files = audio_files(args.files, args.debian)
        if "audio" not in args.skip:
            print(f"\n== audio: {len(files)} files, local processes ==")
            one = audio_run(loaded, files, tmp, "local, 1 worker (in-process)", workers=1)
            two = audio_run(loaded, files, tmp, "local, 2 worker processes", workers=2)
            start = pool_startup(loaded, 2)
            print(f"  speed-up 2 vs 1: {one / two:.2f}x; the pool's start-up (fork server, imports, model unpickled "
                  f"per worker) takes {start:.1f} s of the 2-worker time, so {one / max(two - start, 1e-9):.2f}x "
                  "without it")
        if "dask" not in args.skip:
            print(f"\n== audio: {len(files)} files, Dask local cluster (started before the clock) ==")
            times = {}
            for n in (1, 2):
                cluster, client = dask_cluster(n)
                try:
                    times[n] = audio_run(loaded, files, tmp, f"dask, {n} worker(s)", dask=cluster.scheduler_address)
                finally:
                    client.close()
                    cluster.close()
            print(f"  speed-up 2 vs 1 workers: {times[1] / times[2]:.2f}x (goal >= 1.8x)")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
