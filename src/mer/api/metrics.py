"""Prometheus metrics: requests and latency per route template, verdicts per class and decision (whatever decision
strings the decision rule sends: ``accept``, ``review``, ``unscorable``), the share of each decision and of
out-of-distribution verdicts since start, a confidence histogram, uploads per request and windows per upload, the
micro-batcher, the model version, and the process itself (CPU, memory, open files: prometheus_client's collector).

A pure ASGI middleware (cheaper than ``BaseHTTPMiddleware`` on the hot path) times every HTTP request and labels it
with the matched route's template (``/v1/tracks/{track_id}``, never the raw path, so the label set stays bounded);
paths that match no route share the label ``<unmatched>`` — except a request the door guard refused before routing,
which is labelled with its path when that is one of the app's fixed route paths (``known_paths``). Each app owns its
registry, so tests can build many apps.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, ProcessCollector
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNMATCHED = "<unmatched>"
CONFIDENCE_BUCKETS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99, 1.0)
WINDOW_BUCKETS = (1, 2, 4, 6, 8, 12, 16, 24, 32, 64, 128)


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
        self.decision_rate = Gauge("mer_decision_rate", "Share of verdicts with each decision since start",
                                   ["decision"], registry=r)
        self.unscorable_rate = Gauge("mer_unscorable_rate", "Share of verdicts the model could not judge (not music "
                                     "it can score: silence, tones, noise, out of range) since start", registry=r)
        self.ood = Counter("mer_ood_verdicts", "Verdicts on input outside the training data's range, by source",
                           ["source"], registry=r)
        self.ood_rate = Gauge("mer_ood_rate", "Share of verdicts on out-of-distribution input since start",
                              registry=r)
        self.confidence = Histogram("mer_verdict_confidence", "Top-class probability of each scored verdict",
                                    ["source"], buckets=CONFIDENCE_BUCKETS, registry=r)
        self.uploads = Counter("mer_uploads", "Audio uploads scored (one per request)", registry=r)
        self.upload_windows = Histogram("mer_upload_windows", "Windows per scored upload", buckets=WINDOW_BUCKETS,
                                        registry=r)
        ProcessCollector(registry=r)  # process_cpu_seconds_total, process_resident_memory_bytes, open fds, ...
        self.batch_rows = Histogram("mer_predict_batch_rows", "Rows per model call of the micro-batcher",
                                    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024), registry=r)
        self.batch_requests = Histogram("mer_predict_batch_requests", "Requests per model call of the micro-batcher",
                                        buckets=(1, 2, 3, 4, 6, 8, 12, 16, 32, 64), registry=r)
        self.model = Info("mer_model", "The model being served", registry=r)
        self.model_compiled = Gauge("mer_model_compiled", "1 when the verified compiled prediction path serves",
                                    registry=r)
        self._verdicts = 0
        self._by_decision: dict[str, int] = {}
        self._ood = 0

    def count_verdicts(self, labels: Iterable[str | None], decisions: Iterable[str], source: str,
                       confidences: Iterable[float | None] | None = None,
                       ood: Iterable[bool | None] | None = None) -> None:
        """Count verdicts by class and decision; confidences and OOD flags when the caller has them."""
        labels, decisions = list(labels), list(decisions)
        n = len(decisions)
        confidences = list(confidences) if confidences is not None else [None] * n
        ood = list(ood) if ood is not None else [None] * n
        for label, decision, confidence, out in zip(labels, decisions, confidences, ood, strict=True):
            self.predictions.labels(label or "none", decision, source).inc()
            self._by_decision[decision] = self._by_decision.get(decision, 0) + 1
            if confidence is not None and decision != "unscorable":
                self.confidence.labels(source).observe(confidence)
            if out:
                self.ood.labels(source).inc()
                self._ood += 1
        self._verdicts += n
        if source == "audio":  # one call per upload: count the request as well as its windows
            self.uploads.inc()
            self.upload_windows.observe(n)
        if self._verdicts:
            for decision, count in self._by_decision.items():
                self.decision_rate.labels(decision).set(count / self._verdicts)
            self.review_rate.set(self._by_decision.get("review", 0) / self._verdicts)
            self.unscorable_rate.set(self._by_decision.get("unscorable", 0) / self._verdicts)
            self.ood_rate.set(self._ood / self._verdicts)

    def count_results(self, results: Iterable[Mapping[str, Any]], source: str) -> None:
        """:meth:`count_verdicts` from verdict dicts (``label``, ``decision``, ``confidence``, optional ``ood``)."""
        results = list(results)
        self.count_verdicts((r.get("label") for r in results), (r["decision"] for r in results), source,
                            (r.get("confidence") for r in results), (r.get("ood") for r in results))

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

    def __init__(self, app: ASGIApp, metrics: Metrics, known_paths: frozenset[str] = frozenset()):
        self.app = app
        self.metrics = metrics
        self.known_paths = known_paths

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
            template = getattr(route, "path_format", None) or getattr(route, "path", None)
            if template is None:
                template = scope["path"] if scope["path"] in self.known_paths else UNMATCHED
            method = scope.get("method", "")
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - start)
            self.metrics.requests.labels(method, template, str(status)).inc()
