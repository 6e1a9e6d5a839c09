"""Liveness, readiness and the Prometheus scrape endpoint (unversioned: infrastructure, not the API)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from mer.api.deps import MetricsDep
from mer.api.schemas import Health, Readiness

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=Health, summary="The process is up")
async def health() -> Health:
    return Health(status="ok")


@router.get("/ready", response_model=Readiness, summary="A model is loaded and requests can be scored",
            responses={503: {"model": Readiness, "description": "no model loaded yet"}})
async def ready(request: Request, response: Response) -> Readiness:
    service = request.app.state.model_service
    served = service.current
    if served is None:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        from mer.catalog.engine import redact_secrets  # a registry error may quote a URL with its password

        return Readiness(ready=False, reason=redact_secrets(service.last_error or "loading the model"))
    return Readiness(ready=True, model=served.info, compiled=served.compiled)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format"}})
async def metrics(metrics: MetricsDep) -> Response:
    return Response(metrics.exposition(), media_type=metrics.content_type)
