"""``mer serve``: the REST API over the registry's champion and the catalog (FastAPI + uvicorn).

Nothing it prints or logs carries a database password: URLs are shown redacted, and every log handler gets a filter
that hides the password of any ``scheme://user:password@host`` in a message or a traceback.
"""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer
from rich.console import Console

from mer import settings
from mer.cli.app import app

console = Console(stderr=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0 for all, e.g. in a container).")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    api_key: Annotated[str | None, typer.Option(envvar="MER_API_KEY", show_envvar=True,
                                                help="Key the write endpoints (and /v1/predict) require in "
                                                     "X-API-Key (default: none, open). Prefer the MER_API_KEY "
                                                     "variable: a key on the command line is visible to every "
                                                     "user of the machine (ps) and stays in shell history.")] = None,
    db: Annotated[str | None, typer.Option(help="Catalog database URL (default: MER_DATABASE_URL, else "
                                                "catalog.db in the project root).")] = None,
    check_every: Annotated[float, typer.Option(help="Seconds between registry checks for a moved alias.")] = 10.0,
    batch_wait_ms: Annotated[float, typer.Option(help="How long the micro-batcher waits for more requests "
                                                      "(0: batch only what queued during the previous call).")]
    = 0.0,
    max_upload_mb: Annotated[float, typer.Option(help="Largest accepted audio upload.")] = 50.0,
    max_duration_s: Annotated[float, typer.Option(help="Longest accepted audio upload, in seconds.")] = 900.0,
    access_log: Annotated[bool, typer.Option(help="Log every request (the /metrics counters do anyway).")] = False,
    compiled: Annotated[bool, typer.Option(help="Serve through the verified compiled prediction path (same "
                                                "probabilities, ~50x faster); --no-compiled uses predict_proba.")]
    = True,
    predict_key: Annotated[bool, typer.Option("--predict-needs-key/--predict-open",
                                              help="Whether POST /v1/predict needs the key too (when a key is "
                                                   "set).")] = True,
    request_timeout: Annotated[float, typer.Option(help="Seconds a request may take before it is answered 504 "
                                                        "(0: no limit).")] = 120.0,
    cors_origin: Annotated[list[str] | None, typer.Option(help="A browser origin allowed to call the API (CORS), "
                                                               "e.g. https://ui.example; repeat for more "
                                                               "(default: MER_CORS_ORIGINS, comma-separated; "
                                                               "none: no CORS).")] = None,
    docs: Annotated[bool, typer.Option(help="Serve /docs and /redoc (from assets in the package, no CDN).")]
    = True,
) -> None:
    """Serve models:/music-emotion@champion over HTTP (OpenAPI at /openapi.json).

    Trains a champion first when the registry has none; follows the alias when it moves, without a restart.
    """
    import uvicorn

    from mer.api import ServeConfig, create_app
    from mer.api.config import cors_origins_from_env
    from mer.catalog.engine import redact_url
    from mer.cli.model import ensure_champion  # the same steps as `mer run`

    params = settings.load_params()
    version = ensure_champion(params)
    config = ServeConfig(
        # read the environment here too: `mer run` calls this function directly, bypassing Typer's envvar
        database_url=db or settings.database_url(), api_key=api_key or os.environ.get("MER_API_KEY") or None,
        model_name=settings.model_name(params),
        check_every_s=check_every, batch_wait_ms=batch_wait_ms, max_upload_bytes=int(max_upload_mb * 1024 * 1024),
        max_duration_s=max_duration_s, compile_model=compiled, predict_requires_key=predict_key,
        request_timeout_s=request_timeout or None, cors_origins=tuple(cors_origin or cors_origins_from_env()),
        docs=docs,
    )
    guarded = "writes and /v1/predict" if predict_key else "writes"
    console.print(f"serving {config.model_name} (champion version {version}) on http://{host}:{port} "
                  f"— {guarded + ' need X-API-Key' if config.api_key else 'writes are open (no MER_API_KEY)'}; "
                  f"catalog {redact_url(config.database_url)}")
    server_config = uvicorn.Config(create_app(config), host=host, port=port, access_log=access_log,
                                   log_level="info")  # configures uvicorn's logging: filter its handlers after
    install_log_redaction()
    uvicorn.Server(server_config).run()


class RedactSecrets(logging.Filter):
    """Hides the password of any URL in a record's message and traceback (:func:`mer.catalog.engine.redact_secrets`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from mer.catalog.engine import redact_secrets

        message = record.getMessage()
        clean = redact_secrets(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        return True


def install_log_redaction() -> None:
    """Put :class:`RedactSecrets` on every handler of the root logger and of the loggers that have their own."""
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in list(logging.root.manager.loggerDict))]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if not any(isinstance(f, RedactSecrets) for f in handler.filters):
                handler.addFilter(RedactSecrets())
