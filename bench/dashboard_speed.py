"""Latency of the web dashboard's pages with a 10,000-track catalog (the goal: every page's HTML in ≤ 200 ms).

Generates a catalog of made-up scored tracks through the store's own writer (1-8 windows each, Dirichlet
probabilities decided by the project's rule, 5 % unscorable, feedback on 10 %; about 10 minutes for 10,000 on a
busy 2-core machine — ``--keep`` saves it for the next run), serves the API app on it under uvicorn on 127.0.0.1 in
its own process and requests each page one after another, printing p50/p95/max milliseconds per page.

    python bench/dashboard_speed.py [--tracks 10000] [--requests 40] [--keep catalog.db]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from serve_process import free_port

ROOT = Path(__file__).resolve().parents[1]
GOAL_MS = 200.0


def generate(url: str, n_tracks: int, seed: int = 0) -> None:
    """``n_tracks`` scored tracks in the catalog at ``url`` (written with :func:`mer.catalog.save_track`)."""
    from mer.catalog import add_feedback, init_db, save_track, session_scope
    from mer.decision import decide, track_decision
    from mer.schema import CLASSES, FEATURE_NAMES
    from mer.settings import scoring_settings

    rule = scoring_settings().decision
    init_db(url)
    rng = np.random.default_rng(seed)
    words = ["blue", "night", "river", "storm", "dance", "quiet", "fire", "morning", "rain", "gold", "echo", "road"]
    t0 = time.perf_counter()
    with session_scope(url) as session:
        for i in range(n_tracks):
            n = int(rng.integers(1, 9))
            proba = rng.dirichlet(np.full(len(CLASSES), 0.35), size=n)
            unscorable = ["near silence: RMS far below any training clip"] * n if rng.random() < 0.05 else None
            starts = np.arange(n) * 30.0
            windows = pd.concat([
                pd.DataFrame({"start_s": starts, "end_s": starts + 30.0, "partial": False,
                              "ood": unscorable is not None, "ood_features": ""}),
                pd.DataFrame(rng.normal(size=(n, len(FEATURE_NAMES))), columns=list(FEATURE_NAMES)),
                decide(proba, threshold=rule.accept_threshold, unscorable=unscorable),
            ], axis=1)
            verdict = track_decision(windows, rule)
            name = f"/music/{words[i % 12]}_{words[(i // 12) % 12]}_{i:05d}.flac"
            track_id = save_track(session, path=name, content_hash=f"bench-{i}", duration_s=30.0 * n,
                                  sample_rate=44100, channels=2, windows=windows,
                                  aggregate={**verdict, "model_name": "music-emotion", "model_version": "1",
                                             "aggregate_method": rule.aggregate})
            if rng.random() < 0.10:
                add_feedback(session, label=str(rng.choice(CLASSES)), source="bench", track_id=track_id)
            if (i + 1) % 1000 == 0:
                print(f"  {i + 1:,} tracks written ({time.perf_counter() - t0:.0f} s)", flush=True)


def pages(n_tracks: int) -> list[tuple[str, str]]:
    mid = max(1, n_tracks // 2)
    return [
        ("analyse (/)", "/"),
        ("catalog, first page", "/catalog"),
        ("catalog, search", "/catalog?q=river"),
        ("catalog, sort by confidence, page 100", "/catalog?sort=confidence&order=desc&page=100"),
        ("catalog, sort by path, last pages", f"/catalog?sort=path&limit=50&page={max(1, n_tracks // 50)}"),
        ("catalog, sad + review", "/catalog?label=sad&decision=review"),
        ("track page (8 windows max)", f"/tracks/{mid}"),
        ("review queue, tracks", "/review"),
        ("review queue, tracks, page 50", "/review?page=50"),
        ("review queue, windows", "/review?level=window"),
        ("playlists, relax >= 0.5", "/playlists?mood=relax&min_probability=0.5"),
        ("playlists, happy >= 0, page 20", "/playlists?mood=happy&min_probability=0&page=20"),
        ("M3U export, 1,000 tracks", "/playlists/relax.m3u?min_probability=0&limit=1000"),
    ]


def serve(url: str, tmp: Path) -> tuple[subprocess.Popen, str]:
    """``mer serve`` on the generated catalog. Its registry is an empty throw-away one: the pages need no model,
    and no model loading in the background competes with the requests being timed."""
    port = free_port()
    log_path = tmp / "server.log"
    env = os.environ | {"MER_HOME": str(ROOT), "MER_DATABASE_URL": url,
                        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'mlflow.db'}"}
    env.pop("MER_API_KEY", None)
    log = open(log_path, "wb")  # noqa: SIM115 — lives as long as the server
    # the app itself under uvicorn (``mer serve`` would first train a champion when the registry has none)
    code = ("import uvicorn; from mer.api import ServeConfig, create_app; "
            f"uvicorn.run(create_app(ServeConfig(database_url={url!r})), host='127.0.0.1', port={port}, "
            "log_level='warning')")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("mer serve did not start:\n" + log_path.read_text(errors="replace")[-3000:])
        time.sleep(0.3)
    time.sleep(2.0)  # let start-up (catalog migration check, first registry look-up) settle
    return proc, base


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tracks", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=40, help="timed requests per page (after 3 warm-up ones)")
    ap.add_argument("--keep", type=Path, help="write the generated catalog here and reuse it when it exists")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mer-dashboard-") as tmp:
        db = args.keep.resolve() if args.keep else Path(tmp) / "catalog.db"
        url = f"sqlite:///{db}"
        if not db.exists():
            print(f"generating {args.tracks:,} tracks in {db} …", flush=True)
            generate(url, args.tracks)
        proc, base = serve(url, Path(tmp))
        try:
            total = httpx.get(f"{base}/catalog", timeout=30).text.split(" tracks</small>")[0].rsplit(">", 1)[-1]
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"catalog: {total} tracks; {args.requests} sequential requests per page, HTML fully read; "
                  f"load average {load} on {os.cpu_count()} cores")
            print(f"{'page':40s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s} {'KiB':>6s}")
            worst = 0.0
            with httpx.Client(base_url=base, timeout=30) as client:
                for name, path in pages(args.tracks):
                    for _ in range(3):
                        client.get(path)
                    times, size = [], 0
                    for _ in range(args.requests):
                        t0 = time.perf_counter()
                        r = client.get(path)
                        times.append((time.perf_counter() - t0) * 1000)
                        r.raise_for_status()
                        size = len(r.content)
                    p50, p95 = np.percentile(times, [50, 95])
                    if not path.endswith(".m3u") and "m3u" not in path:
                        worst = max(worst, p95)
                    flag = "" if p95 <= GOAL_MS else "  > goal"
                    print(f"{name:40s} {p50:8.1f} {p95:8.1f} {max(times):8.1f} {size / 1024:6.0f}{flag}")
            print(f"worst page p95: {worst:.1f} ms (goal ≤ {GOAL_MS:.0f} ms)")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
