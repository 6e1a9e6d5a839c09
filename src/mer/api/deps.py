"""FastAPI dependencies: the app's state, a catalog session per request, the served model, the API key check.

The cheap ones are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in the thread pool, and that
hand-off costs more than everything else a ``/v1/predict`` request does.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session, sessionmaker

from mer.api.batching import MicroBatcher
from mer.api.config import ServeConfig
from mer.api.metrics import Metrics
from mer.api.model_service import ModelService, ServedModel

API_KEY_HEADER = "X-API-Key"
_api_key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False,
                               description="Required by write endpoints (and by POST /v1/predict unless the server "
                                           "opened it) when the server was started with a key.")


async def get_config(request: Request) -> ServeConfig:
    return request.app.state.config


async def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


async def get_batcher(request: Request) -> MicroBatcher:
    return request.app.state.batcher


async def get_service(request: Request) -> ModelService:
    return request.app.state.model_service


async def get_model(service: Annotated[ModelService, Depends(get_service)]) -> ServedModel:
    """The served model; 503 while none is loaded yet (see ``/ready``)."""
    served = service.current
    if served is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no model loaded yet; see /ready",
                            headers={"Retry-After": "5"})
    return served


async def get_sessions(request: Request) -> sessionmaker[Session]:
    """The catalog's session factory. Endpoints open and close their session themselves (``with sessions() as
    session``), inside the worker thread that runs them: a generator dependency would give the connection back only
    in its teardown, which needs a free thread of the same pool — under a burst of requests every thread can be
    waiting for a connection that only a teardown could return (seen with 500 concurrent feedback posts)."""
    return request.app.state.sessions


async def require_api_key(
    config: Annotated[ServeConfig, Depends(get_config)],
    key: Annotated[str | None, Security(_api_key_header)] = None,
) -> None:
    """401 unless the ``X-API-Key`` header matches the configured key (no key configured: open)."""
    if config.api_key is None:
        return
    if key is None or not secrets.compare_digest(key.encode(), config.api_key.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"missing or wrong {API_KEY_HEADER} header",
                            headers={"WWW-Authenticate": "ApiKey"})


async def require_predict_key(
    config: Annotated[ServeConfig, Depends(get_config)],
    key: Annotated[str | None, Security(_api_key_header)] = None,
) -> None:
    """``POST /v1/predict`` needs the key too, unless the server was started with ``predict_requires_key`` off."""
    if config.predict_requires_key:
        await require_api_key(config, key)


ConfigDep = Annotated[ServeConfig, Depends(get_config)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
ModelDep = Annotated[ServedModel, Depends(get_model)]
SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]
WriteAccess = Depends(require_api_key)
PredictAccess = Depends(require_predict_key)
