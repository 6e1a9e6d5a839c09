"""The web dashboard served by the API at ``/``: Analyse a track, Catalog, Review queue, Playlists.

Server-rendered pages (Jinja2 templates in ``templates/``) with a little vanilla JavaScript and CSS in ``static/``,
all inside the package: no CDN, no web fonts, no Node toolchain. Pages read the catalog through the same functions
as the REST API; uploads and feedback go through the JSON API itself. :func:`mount_dashboard` adds it to an app.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"


def mount_dashboard(app: FastAPI) -> None:
    """Serve the dashboard's pages at ``/``, ``/catalog``, ``/review``, ``/playlists``, ``/tracks/{id}`` and its
    assets at ``/static``."""
    from mer.web.routes import router

    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")


__all__ = ["mount_dashboard"]
