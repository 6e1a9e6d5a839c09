"""Helpers the browser tests share (a uniquely named module): a live server, made-up catalog entries, the browser."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from support import ROOT, free_port

ORACLE = ROOT / "tests" / "oracle"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
THRESHOLD = 0.75


@dataclass
class LiveServer:
    base: str
    database_url: str
    api_key: str | None

    def get(self, path: str, **kw) -> httpx.Response:
        return httpx.get(self.base + path, timeout=60, **kw)


@contextmanager
def live_server(project: Path, db_name: str, api_key: str | None = None) -> Iterator[LiveServer]:
    """The API (with the dashboard) under uvicorn on 127.0.0.1 in a thread, ready to score; stopped afterwards."""
    import uvicorn

    from mer.api import ServeConfig, create_app

    url = f"sqlite:///{project / db_name}"
    app = create_app(ServeConfig(database_url=url, api_key=api_key, model_name="music-emotion"))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/ready", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and thread.is_alive(), "server did not become ready"
            time.sleep(0.2)
        yield LiveServer(base, url, api_key)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def proba_for(label: str, confidence: float) -> np.ndarray:
    from mer.schema import CLASSES

    p = np.full(len(CLASSES), (1.0 - confidence) / (len(CLASSES) - 1))
    p[CLASSES.index(label)] = confidence
    return p


def seed_track(database_url: str, name: str, proba: np.ndarray, *, path: str | None = None,
               unscorable: str | None = None, model_version: str = "seed") -> int:
    """Store a made-up scored track (one 30-s window per probability row) and return its id."""
    from mer.catalog import save_track, session_scope
    from mer.decision import aggregate, decide
    from mer.schema import FEATURE_NAMES

    proba = np.atleast_2d(proba)
    n = len(proba)
    why = [unscorable] * n if unscorable else None
    starts = np.arange(n) * 30.0
    frame = pd.concat([
        pd.DataFrame({"start_s": starts, "end_s": starts + 30.0, "partial": False, "ood": bool(unscorable),
                      "ood_features": ""}),
        pd.DataFrame(np.zeros((n, len(FEATURE_NAMES))), columns=list(FEATURE_NAMES)),
        decide(proba, threshold=THRESHOLD, unscorable=why),
    ], axis=1)
    verdict = decide(aggregate(proba, "mean")[None, :], threshold=THRESHOLD,
                     unscorable=[unscorable] if unscorable else None).iloc[0].to_dict()
    with session_scope(database_url) as session:
        return save_track(session, path=path or name, content_hash=f"seed-{name}", duration_s=30.0 * n,
                          sample_rate=44100, channels=2, windows=frame,
                          aggregate={**verdict, "model_name": "music-emotion", "model_version": model_version,
                                     "aggregate_method": "mean"})


def tone_clip(path: Path, seconds: float, sr: int = 22050, seed: int = 0) -> Path:
    """A generated clip: a chord that changes every few seconds over a little noise, with a beat."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    roots = 220.0 * 2 ** (rng.integers(0, 12, size=int(seconds // 4) + 1) / 12)
    f = roots[(t // 4).astype(int)]
    x = sum(np.sin(2 * np.pi * f * k * t) / k for k in (1.0, 1.26, 1.5))
    beat = (np.sin(2 * np.pi * 2.0 * t) > 0.95) * rng.normal(size=t.size)
    x = 0.2 * x + 0.3 * beat + 0.02 * rng.normal(size=t.size)
    sf.write(path, (x / np.abs(x).max() * 0.8).astype(np.float32), sr, subtype="PCM_16")
    return path


def screenshot_dir(tmp: Path) -> Path:
    """Where screenshots go: ``MER_SCREENSHOTS`` (e.g. reports/screenshots) when set, else the test's tmp dir."""
    target = Path(os.environ["MER_SCREENSHOTS"]) if os.environ.get("MER_SCREENSHOTS") else tmp / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    return target
