"""The FastAPI application: ``create_app(config)`` wires routers, state, error handlers and metrics.

Start-up does not wait for the model: the process answers ``/health`` at once, ``/ready`` says 503 until the
registry's version is loaded, compiled and verified (seconds), and the model service keeps following the alias.

Docs: ``/openapi.json``, and the interactive ``/docs`` (Swagger UI) and ``/redoc`` pages served from assets vendored
in the ``fastapi-offline`` package (FastAPI's default pages load their JavaScript from a CDN and render blank
offline). Every error the API sends has the one ``Problem`` shape, and OpenAPI says so on every route.

Middleware, outermost first: CORS (when origins are configured), metrics, the door guard (:mod:`mer.api.guard`: key,
size and time checked from the headers before a body is read).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext, suppress
from typing import Any

from fastapi import APIRouter, FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mer.api.batching import MicroBatcher
from mer.api.config import ServeConfig
from mer.api.guard import WRITE_METHODS, DoorGuard
from mer.api.metrics import Metrics, MetricsMiddleware
from mer.api.model_service import ModelService
from mer.api.routers import feedback, health, model, monitor, playlists, predict, review, tracks
from mer.api.schemas import Problem
from mer.api.verdicts import batch_scorer

API_VERSION = "1"
log = logging.getLogger("mer.api")
# an error body never echoes more of the input than this (a 422 on a megabyte body stays small)
MAX_ERRORS_LISTED = 50
MAX_INPUT_CHARS = 200
# documented on every route (a route's own description of a status wins); writes can also meet the door guard
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": Problem, "description": "invalid request: `detail` summarises, `errors` lists each problem with "
                                           f"its location (at most {MAX_ERRORS_LISTED}, inputs cut to "
                                           f"{MAX_INPUT_CHARS} characters)"},
    500: {"model": Problem, "description": "internal error (logged on the server)"},
    504: {"model": Problem, "description": "the request took longer than the server's time limit"},
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "missing or wrong X-API-Key (checked before the body is read)"},
    413: {"model": Problem, "description": "body larger than the server's limit (checked from Content-Length "
                                           "before the body is read, and while a chunked body streams)"},
}


def _writer_lock(url: str):
    """One catalog writer at a time in this process on SQLite (which has one write lock anyway).

    Without it, a burst of writes makes every worker thread take a pooled connection and poll SQLite's busy
    handler for the write lock; the pool runs dry and requests fail after its 30-s timeout (seen with 500
    concurrent feedback posts). Queued on a lock they hold no connection and simply wait their turn.
    PostgreSQL takes concurrent writers as they come.
    """
    from mer.catalog.engine import normalise_url

    return threading.Lock() if normalise_url(url).get_backend_name() == "sqlite" else nullcontext()


def _preview(value: Any) -> Any:
    """An echoed input, cut to :data:`MAX_INPUT_CHARS`: small scalars as they are, anything larger as a short text."""
    if value is None or isinstance(value, bool | int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    if isinstance(value, float):
        return str(value)
    if isinstance(value, list | tuple | dict) and len(value) > MAX_INPUT_CHARS:
        return f"<{'object' if isinstance(value, dict) else 'array'} of {len(value)} items>"
    if isinstance(value, str | bytes):
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    else:
        try:
            text = json.dumps(jsonable_encoder(value), default=str)
        except (TypeError, ValueError):
            text = repr(value)
        if len(text) <= MAX_INPUT_CHARS:
            return json.loads(text) if text.startswith(("{", "[")) else text
    if len(text) <= MAX_INPUT_CHARS:
        return text
    return f"{text[:MAX_INPUT_CHARS]}… ({len(text)} characters)"


def _jsonable_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validation errors made JSON-safe and small: a NaN or infinite input is echoed as a string, context as text,
    every input cut to a preview, at most :data:`MAX_ERRORS_LISTED` errors."""

    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    out = []
    for err in errors[:MAX_ERRORS_LISTED]:
        item = {k: v for k, v in err.items() if k not in ("url", "ctx", "input")}
        if "input" in err:
            item["input"] = _preview(err["input"])
        if "ctx" in err:
            item["ctx"] = {k: str(v) if isinstance(v, Exception) else v for k, v in err["ctx"].items()}
        out.append(clean(item))
    return jsonable_encoder(out)


def _where(loc: tuple | list) -> str:
    """``('body', 'rows', 3, '_Tempo_Mean')`` → ``row 3, field _Tempo_Mean``."""
    parts = [p for p in loc if p not in ("body",)]
    if len(parts) >= 2 and parts[0] == "rows" and isinstance(parts[1], int):
        field = f", field {parts[2]}" if len(parts) > 2 else ""
        return f"row {parts[1]}{field}"
    return ".".join(map(str, parts)) or "body"


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    summary = "; ".join(f"{_where(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors[:10])
    more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
    return JSONResponse({"detail": summary + more, "errors": _jsonable_errors(errors)},
                        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "internal error (logged on the server)"},
                        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR)


def create_app(config: ServeConfig | None = None, service: ModelService | None = None) -> FastAPI:
    """A configured app. ``service`` may be passed in (tests); by default it follows ``config.model_name``."""
    config = config or ServeConfig()
    service = service or ModelService(config.model_name, config.alias, config.check_every_s, config.compile_model)
    metrics = Metrics()
    service.on_change.append(lambda served: metrics.set_model(served.name, served.version, served.alias,
                                                              served.compiled))
    if service.current is not None:
        metrics.set_model(**service.current.info, compiled=service.current.compiled)
    batcher = MicroBatcher(batch_scorer(service, config.decision), max_rows=config.max_batch_rows,
                           max_wait_s=config.batch_wait_ms / 1000.0, on_batch=metrics.count_batch)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from threadpoolctl import threadpool_limits

        from mer.catalog import init_db
        from mer.catalog.engine import session_factory

        # one BLAS thread: the model's small matrix products are slower, not faster, with threads competing for
        # two cores (measured 30 ms instead of 0.1 ms for a 50-row batch with OpenBLAS's default of 2 threads)
        threadpool_limits(1, "blas")
        await asyncio.to_thread(init_db, config.database_url)
        app.state.sessions = session_factory(config.database_url)
        app.state.write_lock = _writer_lock(config.database_url)
        batcher.start()
        follower = asyncio.create_task(service.follow(), name="mer-model-follower")
        watcher = monitor.start_refresher(app)  # the mer_monitor_* gauges, refreshed on a schedule
        try:
            yield
        finally:
            await monitor.stop_refresher(watcher)
            follower.cancel()
            with suppress(asyncio.CancelledError):
                await follower
            await batcher.stop()

    app = _make_fastapi(
        config,
        title="Music emotion recognition",
        version=API_VERSION,
        summary="Scores music by emotion (happy, sad, angry, relax) from 50 MIRtoolbox features or from audio.",
        description="Predictions carry calibrated probabilities and an accept/review decision; uploaded audio is "
                    "stored in a catalog with its windows, features and predictions, which feeds playlists, the "
                    "review queue and feedback. Write endpoints (and `POST /v1/predict`, unless the server opened "
                    "it) need the `X-API-Key` header when the server has a key. `GET /v1/model` is the model card.",
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.metrics = metrics
    app.state.batcher = batcher
    app.state.model_service = service
    app.state.model_cards = {}  # GET /v1/model: one registry read per served version
    routers = (health.router, predict.router, model.router, tracks.router, review.router, playlists.router,
               feedback.router, monitor.router)
    for router in routers:
        app.include_router(router, responses=ERROR_RESPONSES | (WRITE_RESPONSES if _writes(router) else {}))
    from mer.web import mount_dashboard  # the web dashboard at / (pages and static assets inside the package)

    mount_dashboard(app)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    # added innermost first: the guard sees requests after metrics started timing them, CORS wraps everything
    app.add_middleware(DoorGuard, config=config)
    app.add_middleware(MetricsMiddleware, metrics=metrics,
                       known_paths=frozenset(p for router in (app, *routers) for r in router.routes
                                             if "{" not in (p := getattr(r, "path", None) or "{")))
    if config.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["X-API-Key", "Content-Type"], max_age=600)
    return app


def _writes(router: APIRouter) -> bool:
    return any(WRITE_METHODS & set(getattr(route, "methods", ()) or ()) for route in router.routes)


def _make_fastapi(config: ServeConfig, **kwargs: Any) -> FastAPI:
    """FastAPI with ``/docs`` and ``/redoc`` from vendored assets (``fastapi-offline``), or with no docs pages."""
    if not config.docs:
        return FastAPI(docs_url=None, redoc_url=None, **kwargs)
    from fastapi_offline import FastAPIOffline

    return FastAPIOffline(**kwargs)
