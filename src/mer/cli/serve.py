"""``mer serve``: the REST API over the registry's champion and the catalog (FastAPI + uvicorn)."""

from __future__ import annotations

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
                                                help="Key the write endpoints require in X-API-Key (default: "
                                                     "none, writes are open).")] = None,
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
) -> None:
    """Serve models:/music-emotion@champion over HTTP (OpenAPI at /openapi.json).

    Trains a champion first when the registry has none; follows the alias when it moves, without a restart.
    """
    import uvicorn

    from mer.api import ServeConfig, create_app
    from mer.cli.model import ensure_champion  # the same steps as `mer run`

    params = settings.load_params()
    version = ensure_champion(params)
    config = ServeConfig(
        # read the environment here too: `mer run` calls this function directly, bypassing Typer's envvar
        database_url=db or settings.database_url(), api_key=api_key or os.environ.get("MER_API_KEY") or None,
        model_name=settings.model_name(params),
        check_every_s=check_every, batch_wait_ms=batch_wait_ms, max_upload_bytes=int(max_upload_mb * 1024 * 1024),
        max_duration_s=max_duration_s, compile_model=compiled,
    )
    console.print(f"serving {config.model_name} (champion version {version}) on http://{host}:{port} "
                  f"— writes {'need X-API-Key' if config.api_key else 'are open (no --api-key)'}")
    uvicorn.run(create_app(config), host=host, port=port, access_log=access_log, log_level="info")
