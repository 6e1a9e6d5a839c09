"""A moved alias is served without a restart."""

from __future__ import annotations

import time

from api_support import make_config, wait_ready
from fastapi.testclient import TestClient

from mer.api import create_app


def _served_version(c: TestClient, rows) -> str:
    r = c.post("/v1/predict", json={"rows": rows})
    assert r.status_code == 200, r.text
    return r.json()["model"]["version"]


def test_moving_the_champion_alias_changes_the_served_version(trained_project, example_rows) -> None:
    from mlflow import MlflowClient

    registry = MlflowClient()
    config = make_config(trained_project, "catalog-alias.db", check_every_s=0.2)
    with TestClient(create_app(config)) as c:
        wait_ready(c)
        assert _served_version(c, example_rows[:2]) == "2"
        try:
            registry.set_registered_model_alias("music-emotion", "champion", "1")
            deadline = time.monotonic() + 30
            while _served_version(c, example_rows[:2]) != "1":
                assert time.monotonic() < deadline, "the moved alias was not picked up"
                time.sleep(0.1)
            assert c.get("/ready").json()["model"]["version"] == "1"
            assert 'version="1"' in c.get("/metrics").text
        finally:
            registry.set_registered_model_alias("music-emotion", "champion", "2")
