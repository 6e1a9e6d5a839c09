"""Latency of ``POST /v1/predict`` under open-loop load, against ``mer serve`` with the real champion.

Starts ``mer serve`` on 127.0.0.1 (a free port, a throw-away catalog; trains a champion first if the registry has
none), then for each rate sends one-row requests on a fixed arrival schedule (request i leaves at t0 + i/rate,
whether or not earlier ones were answered — open loop, so a slow server cannot slow the load down) and prints
p50/p95/p99/max latency, measured from each request's *scheduled* time (no coordinated omission), errors, and the
micro-batcher's mean batch size at that rate.

The load generator is a minimal HTTP/1.1 keep-alive client on asyncio streams, not httpx: client and server share
the machine's two cores, and httpx's per-request cost (~1 ms of CPU) would be taken from the server under test.
``--client httpx`` uses httpx instead, for comparison.

    python bench/api_load.py [--rates 50,100,200,300,400] [--seconds 10] [--batch-wait-ms 0] [--url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
from serve_process import metric_sum, running_server

ROOT = Path(__file__).resolve().parents[1]


def request_bodies() -> list[bytes]:
    from mer.schema import FEATURE_NAMES

    rows = pd.read_csv(ROOT / "data" / "examples" / "example_features.csv")[list(FEATURE_NAMES)]
    return [json.dumps({"rows": [row]}).encode() for row in rows.to_dict("records")]


class RawClient:
    """Keep-alive HTTP/1.1 connections from a pool; one request per connection at a time."""

    def __init__(self, host: str, port: int, path: str):
        self.host, self.port, self.path = host, port, path
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, body: bytes) -> int:
        while self.idle:  # a pooled connection the server closed (keep-alive timeout) fails: use the next one
            conn = self.idle.pop()
            try:
                return await self._exchange(conn, body)
            except (ConnectionError, IndexError, asyncio.IncompleteReadError):
                conn[1].close()
        return await self._exchange(await asyncio.open_connection(self.host, self.port), body)

    async def _exchange(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], body: bytes) -> int:
        reader, writer = conn
        head = (f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        writer.write(head + body)
        status_line = await reader.readline()
        status = int(status_line.split()[1])  # IndexError on a closed connection (empty line)
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        await reader.readexactly(length)
        self.idle.append(conn)
        return status

    async def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


class HttpxClient:
    def __init__(self, base: str, path: str):
        import httpx

        self.url = base + path
        self.client = httpx.AsyncClient(limits=httpx.Limits(max_connections=1000, max_keepalive_connections=1000),
                                        timeout=30)

    async def post(self, body: bytes) -> int:
        resp = await self.client.post(self.url, content=body, headers={"content-type": "application/json"})
        return resp.status_code

    async def close(self) -> None:
        await self.client.aclose()


async def run_rate(client, bodies: list[bytes], rate: float, seconds: float) -> dict:
    n = int(rate * seconds)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    loop = asyncio.get_running_loop()

    async def one(i: int, scheduled: float) -> None:
        try:
            status = await asyncio.wait_for(client.post(bodies[i % len(bodies)]), timeout=30)
        except Exception as exc:  # noqa: BLE001 — every failure is counted, by kind
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            return
        if status != 200:
            errors[f"HTTP {status}"] = errors.get(f"HTTP {status}", 0) + 1
            return
        latencies.append(loop.time() - scheduled)

    start = loop.time() + 0.05
    tasks = []
    for i in range(n):
        scheduled = start + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    lat = np.array(latencies) * 1000
    pct = np.percentile(lat, [50, 95, 99]) if len(lat) else [float("nan")] * 3
    return {"rate": rate, "sent": n, "ok": len(latencies), "errors": errors, "achieved": n / elapsed,
            "p50": pct[0], "p95": pct[1], "p99": pct[2], "max": float(lat.max()) if len(lat) else float("nan"),
            "mean": statistics.fmean(lat) if len(lat) else float("nan")}


async def bench(base: str, rates: list[float], seconds: float, client_kind: str) -> None:
    host, port = base.removeprefix("http://").split(":")
    bodies = request_bodies()
    client = RawClient(host, int(port), "/v1/predict") if client_kind == "raw" else HttpxClient(base, "/v1/predict")
    await run_rate(client, bodies, 50, 2)  # warm-up: connections, caches
    print(f"{'rate/s':>7} {'sent':>6} {'ok':>6} {'errors':>7} {'achieved':>9} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'p99 ms':>7} {'max ms':>7} {'rows/call':>9}")
    for rate in rates:
        rows0, calls0 = (metric_sum(base, f"mer_predict_batch_rows_{k}") for k in ("sum", "count"))
        r = await run_rate(client, bodies, rate, seconds)
        rows1, calls1 = (metric_sum(base, f"mer_predict_batch_rows_{k}") for k in ("sum", "count"))
        per_call = (rows1 - rows0) / max(calls1 - calls0, 1)
        errors = sum(r["errors"].values())
        print(f"{rate:7.0f} {r['sent']:6d} {r['ok']:6d} {errors:7d} {r['achieved']:9.1f} {r['p50']:7.2f} "
              f"{r['p95']:7.2f} {r['p99']:7.2f} {r['max']:7.1f} {per_call:9.2f}"
              + (f"  {r['errors']}" if errors else ""), flush=True)
    await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="50,100,200,300,400", help="requests per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each rate")
    parser.add_argument("--batch-wait-ms", type=float, default=0.0, help="passed to mer serve")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    parser.add_argument("--no-compiled", action="store_true", help="serve with predict_proba (the baseline)")
    parser.add_argument("--url", help="benchmark an already running server instead of starting one")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    print(f"POST /v1/predict, 1 row per request, {args.seconds:g} s per rate, open loop, client {args.client}, "
          f"batch wait {args.batch_wait_ms:g} ms, {'predict_proba' if args.no_compiled else 'compiled'} model path")
    if args.url:
        asyncio.run(bench(args.url.rstrip("/"), rates, args.seconds, args.client))
        return
    t0 = time.perf_counter()
    extra = ["--batch-wait-ms", str(args.batch_wait_ms)] + (["--no-compiled"] if args.no_compiled else [])
    with running_server(*extra) as base:
        print(f"server ready in {time.perf_counter() - t0:.1f} s at {base}")
        asyncio.run(bench(base, rates, args.seconds, args.client))


if __name__ == "__main__":
    main()
