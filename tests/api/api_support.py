"""Helpers the API tests share (a uniquely named module; ``from conftest import`` is ambiguous across packages)."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from support import LENIENT_GATES, ROOT  # noqa: F401  (re-exported for the API tests)

API_KEY = "test-key"
ORACLE = ROOT / "tests" / "oracle"


def wait_ready(client: TestClient, timeout_s: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        r = client.get("/ready")
        if r.status_code == 200:
            return r.json()
        time.sleep(0.1)
    raise AssertionError(f"not ready after {timeout_s} s: {r.json()}")


def make_config(project: Path, db_name: str, **overrides):
    from mer.api import ServeConfig

    # /v1/predict stays open in these apps (the tests of other things post rows without the key); the door tests
    # (test_doors.py) switch predict_requires_key back on
    return ServeConfig(**({"database_url": f"sqlite:///{project / db_name}", "api_key": API_KEY,
                           "model_name": "music-emotion", "predict_requires_key": False} | overrides))
