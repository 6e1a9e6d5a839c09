"""Live signals: the mer_monitor_* gauges, their schedule inside the server, one log line per alert."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from prometheus_client import CollectorRegistry, generate_latest
from test_monitor_catalog import fill
from test_monitor_drift import scored

from mer.monitor.drift import monitor_report
from mer.monitor.live import MonitorGauges, log_alerts, refresh_forever
from mer.settings import MonitorSettings


def shifted_report(training_rows: pd.DataFrame) -> dict:
    current = training_rows.sample(400, replace=True, random_state=7).reset_index(drop=True)
    current["_Tempo_Mean"] += 40
    return monitor_report(training_rows, scored(current), MonitorSettings())


def test_gauges_carry_the_report(training_rows: pd.DataFrame) -> None:
    registry = CollectorRegistry()
    gauges = MonitorGauges(registry)
    gauges.update(shifted_report(training_rows))
    text = generate_latest(registry).decode()
    assert 'mer_monitor_feature_drift{feature="_Tempo_Mean"} 1.0' in text
    assert 'mer_monitor_feature_drift{feature="_Roughness_Mean"} 0.0' in text
    assert 'mer_monitor_alerts{kind="drift"} 1.0' in text
    assert "mer_monitor_windows 400.0" in text
    gauges.update(monitor_report(training_rows, scored(training_rows), MonitorSettings()))
    assert 'mer_monitor_alerts{kind="drift"} 0.0' in generate_latest(registry).decode()  # cleared, not stale


def test_one_structured_log_line_per_alert(training_rows: pd.DataFrame, caplog: pytest.LogCaptureFixture) -> None:
    report = shifted_report(training_rows)
    with caplog.at_level(logging.WARNING, logger="mer.monitor"):
        log_alerts(report)
    lines = [r.getMessage() for r in caplog.records if r.name == "mer.monitor"]
    assert len(lines) == len(report["alerts"]) == 1
    assert json.loads(lines[0].removeprefix("monitor_alert "))["subject"] == "_Tempo_Mean"


def test_the_schedule_refreshes_and_survives_failures(training_rows: pd.DataFrame) -> None:
    report = shifted_report(training_rows)
    calls: list[object] = []

    def compute(since):
        calls.append(since)
        if len(calls) == 2:
            raise RuntimeError("catalog away")
        return report

    gauges = MonitorGauges(CollectorRegistry())

    async def run() -> None:
        task = asyncio.create_task(refresh_forever(compute, gauges, 0.05, 24, 0))
        await asyncio.sleep(0.4)
        task.cancel()

    asyncio.run(run())
    assert len(calls) >= 3  # kept going after the failure
    assert gauges.windows._value.get() == 400


def test_the_server_refreshes_the_gauges(tmp_path: Path, training_rows: pd.DataFrame,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from mer.api.app import create_app
    from mer.api.config import ServeConfig
    from mer.api.model_service import ModelService
    from mer.catalog import init_db

    root = Path(__file__).resolve().parents[2]
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["monitor"]["refresh_s"] = 0.2
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    (tmp_path / "data" / "interim").mkdir(parents=True)
    training_rows.to_csv(tmp_path / "data" / "interim" / "uci_clean.csv", index=False)
    monkeypatch.setenv("MER_HOME", str(tmp_path))
    url = f"sqlite:///{tmp_path / 'cat.db'}"
    init_db(url)
    fill(url)
    service = ModelService("no-such-model", "champion", 3600.0, False)
    with TestClient(create_app(ServeConfig(database_url=url), service)) as client:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            text = client.get("/metrics").text
            if "mer_monitor_windows 12.0" in text:
                break
            time.sleep(0.2)
        assert "mer_monitor_windows 12.0" in text
        assert 'mer_monitor_alerts{kind="too_few_windows"} 1.0' in text
