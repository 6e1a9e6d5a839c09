"""Latency of ``POST /v1/predict/audio`` for a 30-s clip (decode + 50 features + model + catalog write).

Starts ``mer serve`` on 127.0.0.1 like ``bench/api_load.py`` and uploads the oracle's 30-s Wesnoth excerpts one
after another (``--concurrency`` at a time), printing p50/p95/max seconds per upload and the errors. Uploading the
same audio again re-saves the same catalog track (idempotent by content), so repeats measure the same work.

    python bench/audio_upload.py [--uploads 20] [--concurrency 1]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import httpx
import numpy as np
from serve_process import running_server

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-key"


async def upload_all(base: str, clips: list[Path], uploads: int, concurrency: int) -> tuple[list[float], dict]:
    gate = asyncio.Semaphore(concurrency)
    times: list[float] = []
    errors: dict[str, int] = {}
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": KEY}, timeout=300) as client:

        async def one(i: int) -> None:
            clip = clips[i % len(clips)]
            async with gate:
                t0 = time.perf_counter()
                r = await client.post("/v1/predict/audio", files={"file": (clip.name, clip.read_bytes())})
                if r.status_code != 200:
                    errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1
                    return
                assert len(r.json()["windows"]) == 1
                times.append(time.perf_counter() - t0)

        await asyncio.gather(*(one(i) for i in range(uploads)))
    return times, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    clips = sorted((ROOT / "tests" / "oracle").glob("wesnoth_*.flac"))
    clips = [c for c in clips if "silence" not in c.name]
    with running_server(api_key=KEY) as base:
        asyncio.run(upload_all(base, clips[:1], 1, 1))  # warm-up (first extraction pays one-off costs)
        t0 = time.perf_counter()
        times, errors = asyncio.run(upload_all(base, clips, args.uploads, args.concurrency))
        wall = time.perf_counter() - t0
    s = np.array(times)
    print(f"POST /v1/predict/audio, 30-s 44.1 kHz stereo FLAC clips, {args.uploads} uploads, "
          f"concurrency {args.concurrency}")
    print(f"ok {len(s)}  errors {sum(errors.values())} {errors or ''}")
    if len(s):
        print(f"seconds per upload: p50 {np.percentile(s, 50):.2f}  p95 {np.percentile(s, 95):.2f}  "
              f"max {s.max():.2f}  mean {s.mean():.2f};  throughput {len(s) / wall:.2f} uploads/s")


if __name__ == "__main__":
    main()
