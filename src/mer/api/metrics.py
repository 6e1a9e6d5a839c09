"""Prometheus metrics: requests and latency per route template, predictions per class, review rate, model version.

A pure ASGI middleware (cheaper than ``BaseHTTPMiddleware`` on the hot path) times every HTTP request and labels it
with the matched route's template (``/v1/tracks/{track_id}``, never the raw path, so the label set stays bounded);
paths that match no route share the label ``<unmatched>``. Each app owns its registry, so tests can build many apps.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNMATCHED = "<unmatched>"


class Metrics:
    """The app's metric families (in their own registry)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("mer_http_requests", "HTTP requests by route template, method and status",
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("mer_http_request_duration_seconds", "Request latency by route template",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=r)
        self.predictions = Counter("mer_predictions", "Verdicts served, by class, decision and source",
                                   ["label", "decision", "source"], registry=r)
        self.review_rate = Gauge("mer_review_rate", "Share of verdicts sent to review (low confidence) since start",
                                 registry=r)
        self.batch_rows = Histogram("mer_predict_batch_rows", "Rows per model call of the micro-batcher",
                                    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024), registry=r)
        self.batch_requests = Histogram("mer_predict_batch_requests", "Requests per model call of the micro-batcher",
                                        buckets=(1, 2, 3, 4, 6, 8, 12, 16, 32, 64), registry=r)
        self.model = Info("mer_model", "The model being served", registry=r)
        self.model_compiled = Gauge("mer_model_compiled", "1 when the verified compiled prediction path serves",
                                    registry=r)
        self._verdicts = 0
        self._reviews = 0

    def count_verdicts(self, labels: Iterable[str], decisions: Iterable[str], source: str) -> None:
        n = reviews = 0
        for label, decision in zip(labels, decisions, strict=True):
            self.predictions.labels(label, decision, source).inc()
            n += 1
            reviews += decision == "review"
        self._verdicts += n
        self._reviews += reviews
        if self._verdicts:
            self.review_rate.set(self._reviews / self._verdicts)

    def count_batch(self, requests: int, rows: int) -> None:
        self.batch_requests.observe(requests)
        self.batch_rows.observe(rows)

    def set_model(self, name: str, version: str, alias: str, compiled: bool) -> None:
        self.model.info({"name": name, "version": version, "alias": alias})
        self.model_compiled.set(1.0 if compiled else 0.0)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Times each HTTP request and counts it under its route template and final status."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path_format", None) or getattr(route, "path", None) or UNMATCHED
            method = scope.get("method", "")
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - start)
            self.metrics.requests.labels(method, template, str(status)).inc()
