"""``GET /v1/monitor``: the monitoring report (``mer monitor``'s JSON) of the served catalog over a period."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from mer.api.deps import ConfigDep, MetricsDep

router = APIRouter(prefix="/v1", tags=["monitoring"])

PREDICT_ROUTES = ("/v1/predict", "/v1/predict/audio")


def latency_p95_ms(metrics: Any, routes: tuple[str, ...] = PREDICT_ROUTES) -> float | None:
    """p95 of the prediction routes' request latency since the server started, in ms: the upper bound of the
    Prometheus bucket holding the 95th percentile (so a bound, at the buckets' resolution); None without requests."""
    buckets: dict[float, float] = {}
    for family in metrics.registry.collect():
        if family.name != "mer_http_request_duration_seconds":
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket") and sample.labels.get("route") in routes:
                le = float(sample.labels["le"])
                buckets[le] = buckets.get(le, 0.0) + sample.value
    if not buckets or buckets.get(float("inf"), 0.0) == 0:
        return None
    total = buckets[float("inf")]
    for le in sorted(buckets):
        if buckets[le] >= 0.95 * total:
            return le * 1000.0 if le != float("inf") else None
    return None


@router.get("/monitor", summary="Drift, class mix, verdict shares and feedback quality over a period")
async def monitor(
    config: ConfigDep,
    metrics: MetricsDep,
    since: Annotated[datetime | None, Query(description="latest verdict at or after (ISO 8601; naive = UTC)")] = None,
    until: Annotated[datetime | None, Query(description="latest verdict before")] = None,
) -> dict[str, Any]:
    """The same JSON as ``mer monitor --json``: ``features`` (each of the 50 names → ``psi``, ``ks_p``, ``drift``),
    ``alerts`` (``kind, subject, value, threshold, message``), class mix, shares, confidence histogram, feedback
    figures with 95 % intervals, and ``latency_p95_ms`` of the prediction routes from this server's own metrics."""
    from mer import settings
    from mer.monitor.catalog import build_report

    try:
        params = settings.load_params()
    except FileNotFoundError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"no project to monitor against: {exc}") from exc

    def run() -> dict[str, Any]:
        report, _, _ = build_report(config.database_url, params, since, until,
                                    latency_p95_ms=latency_p95_ms(metrics))
        return report

    try:
        return await asyncio.to_thread(run)
    except FileNotFoundError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc


def start_refresher(app: Any) -> asyncio.Task[None] | None:
    """Start the schedule that refreshes the ``mer_monitor_*`` gauges (``params.yaml: monitor.refresh_s``, over the
    last ``live_period_h`` hours; first refresh after a minute) and logs one line per alert; None when the server
    runs outside a project (no training rows to compare with) or ``refresh_s`` is 0."""
    from mer import settings
    from mer.monitor.catalog import build_report
    from mer.monitor.live import MonitorGauges, refresh_forever

    try:
        params = settings.load_params()
    except FileNotFoundError:
        return None
    monitor_cfg = settings.monitor_settings(params)
    if monitor_cfg.refresh_s <= 0:
        return None
    metrics, config = app.state.metrics, app.state.config
    gauges = getattr(app.state, "monitor_gauges", None) or MonitorGauges(metrics.registry)
    app.state.monitor_gauges = gauges

    def compute(since: datetime) -> dict[str, Any]:
        return build_report(config.database_url, params, since, latency_p95_ms=latency_p95_ms(metrics))[0]

    return asyncio.create_task(refresh_forever(compute, gauges, monitor_cfg.refresh_s, monitor_cfg.live_period_h,
                                               min(60.0, monitor_cfg.refresh_s)), name="mer-monitor-refresh")


async def stop_refresher(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
