"""Live monitoring signals: the report's figures as Prometheus gauges, refreshed on a schedule inside the server (not
per scrape), and one structured log line per alert (logger ``mer.monitor``, JSON after ``monitor_alert``)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from mer.schema import FEATURE_NAMES

log = logging.getLogger("mer.monitor")

FEEDBACK_FIGURES = ("accuracy", "macro_f1", "accepted_precision", "ece")


class MonitorGauges:
    """The monitoring figures as gauges in ``registry`` (the API's own registry)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.psi = Gauge("mer_monitor_feature_psi", "PSI of each feature against the training rows", ["feature"],
                         registry=r)
        self.drift = Gauge("mer_monitor_feature_drift", "1 when the feature drifts (PSI and corrected KS)",
                           ["feature"], registry=r)
        self.share = Gauge("mer_monitor_window_share", "Share of the period's windows by kind (ood, unscorable, "
                           "review, accept)", ["kind"], registry=r)
        self.class_share = Gauge("mer_monitor_class_share", "Class mix of the period's scorable windows", ["label"],
                                 registry=r)
        self.feedback = Gauge("mer_monitor_feedback", "Feedback figures on labelled windows/tracks",
                              ["level", "figure"], registry=r)
        self.alerts = Gauge("mer_monitor_alerts", "Alerts of the last refresh by kind", ["kind"], registry=r)
        self.windows = Gauge("mer_monitor_windows", "Windows in the monitored period", registry=r)
        self.refreshed = Gauge("mer_monitor_last_refresh_timestamp_seconds", "When the figures were last computed",
                               registry=r)
        self.failures = Gauge("mer_monitor_refresh_failures", "Consecutive failed refreshes", registry=r)
        self._alert_kinds: set[str] = set()

    def update(self, report: dict[str, Any]) -> None:
        nan = float("nan")
        for name in FEATURE_NAMES:
            f = report["features"].get(name, {})
            self.psi.labels(name).set(f.get("psi") if f.get("psi") is not None else nan)
            self.drift.labels(name).set(1.0 if f.get("drift") else 0.0)
        for kind, value in report["shares"].items():
            self.share.labels(kind).set(value if value is not None else nan)
        for label, value in report["class_mix"]["current"].items():
            self.class_share.labels(label).set(value if value is not None else nan)
        for level, fb in report["feedback"].items():
            for figure in FEEDBACK_FIGURES:
                value = (fb.get(figure) or {}).get("value")
                self.feedback.labels(level, figure).set(value if value is not None else nan)
            self.feedback.labels(level, "n").set(fb.get("n", 0))
        counts: dict[str, int] = {}
        for alert in report["alerts"]:
            counts[alert["kind"]] = counts.get(alert["kind"], 0) + 1
        for kind in self._alert_kinds | set(counts):  # kinds no longer alerting go back to 0
            self.alerts.labels(kind).set(counts.get(kind, 0))
        self._alert_kinds |= set(counts)
        self.windows.set(report["windows"]["n"])
        self.refreshed.set(time.time())


def log_alerts(report: dict[str, Any]) -> None:
    """One structured line per alert: ``monitor_alert {"kind": ..., "subject": ..., ...}``."""
    for alert in report["alerts"]:
        log.warning("monitor_alert %s", json.dumps(alert, sort_keys=True, default=str))


async def refresh_forever(compute: Callable[[datetime], dict[str, Any]], gauges: MonitorGauges, every_s: float,
                          period_h: float, first_after_s: float) -> None:
    """Every ``every_s`` seconds (the first time after ``first_after_s``), compute the report over the last
    ``period_h`` hours in a worker thread, update the gauges and log its alerts. Failures are logged and counted,
    never raised (the server keeps serving)."""
    await asyncio.sleep(first_after_s)
    failures = 0
    while True:
        since = datetime.now(UTC) - timedelta(hours=period_h)
        try:
            report = await asyncio.to_thread(compute, since)
            gauges.update(report)
            log_alerts(report)
            failures = 0
        except Exception as exc:  # noqa: BLE001 - a monitoring failure must not stop the server
            failures += 1
            log.error("monitor refresh failed: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        gauges.failures.set(failures)
        await asyncio.sleep(every_s)
