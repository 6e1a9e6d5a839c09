"""Start ``mer serve`` as a subprocess on 127.0.0.1 (a free port, a throw-away catalog) for the API benchmarks.

The server uses the project's registry (the real champion); when there is none it trains one first, which takes
minutes — the wait for ``/ready`` allows for that.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except Exception:  # noqa: BLE001 — not up yet
        return 0


@contextlib.contextmanager
def running_server(*extra: str, api_key: str | None = None, ready_timeout_s: float = 1800.0) -> Iterator[str]:
    """Yield the base URL of a ready ``mer serve``; stop it (SIGTERM, then SIGKILL) afterwards."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="mer-bench-") as tmp:
        env = os.environ | {"MER_HOME": str(ROOT), "MER_DATABASE_URL": f"sqlite:///{tmp}/catalog.db"}
        if api_key:
            env["MER_API_KEY"] = api_key
        cmd = [sys.executable, "-m", "mer", "serve", "--host", "127.0.0.1", "--port", str(port), *extra]
        log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115 — closed below
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + ready_timeout_s
            while _get(f"{base}/ready") != 200:
                if proc.poll() is not None:
                    raise RuntimeError(f"mer serve exited with {proc.returncode}:\n"
                                       + (Path(tmp) / "server.log").read_text(errors="replace")[-3000:])
                if time.monotonic() > deadline:
                    raise TimeoutError("mer serve did not become ready in time")
                time.sleep(0.5)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


def metric_sum(base: str, name: str) -> float:
    """Sum of the samples of one metric line family in ``/metrics`` (e.g. ``mer_predict_batch_rows_sum``)."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + "{") or line.startswith(name + " "))
