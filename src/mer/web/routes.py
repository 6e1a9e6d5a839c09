"""The dashboard's pages: server-rendered HTML (Jinja2) over the same catalog functions the REST API uses.

Pages only read. Everything that writes (an upload, feedback) is sent by the page's JavaScript to the JSON API
(``POST /v1/predict/audio``, ``POST /v1/feedback``) with the key the person typed, kept in the tab's
``sessionStorage`` — the server never puts a key into a page.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from mer.api.deps import SessionsDep
from mer.api.schemas import Label
from mer.catalog import count_playlist, count_review, get_track, playlist, review_queue
from mer.catalog.playlist_file import write_m3u
from mer.schema import CLASSES
from mer.web import queries

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)

# Okabe & Ito's colour-blind-safe palette; the timeline also tells the moods apart by pattern and text
MOOD_COLOURS: dict[str, str] = {"happy": "#E69F00", "sad": "#0072B2", "angry": "#D55E00", "relax": "#009E73"}
# pages that belong to the dashboard but are not built yet: named in the navigation as "coming", never faked
COMING: tuple[str, ...] = ("Mood paths", "Similar tracks", "Monitoring", "Models")
# offline by construction: the page may load nothing from anywhere but this server
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")
REVIEW_PAGE = 20
PLAYLIST_PAGE = 50
M3U_MAX = 10_000


def _render(request: Request, template: str, nav: str, **context: Any) -> HTMLResponse:
    config = request.app.state.config
    response = templates.TemplateResponse(request, template, {
        "nav": nav, "moods": CLASSES, "colours": MOOD_COLOURS, "coming": COMING,
        "key_required": config.api_key is not None, **context})
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    return response


def _pages(total: int, limit: int) -> int:
    return max(1, -(-total // limit))


@router.get("/", response_class=HTMLResponse)
def analyse(request: Request) -> HTMLResponse:
    """Analyse a track: upload → waveform, timeline, verdict, feedback (drawn by ``analyse.js``)."""
    config = request.app.state.config
    return _render(request, "analyse.html", "analyse", view=None,
                   max_upload_mb=config.max_upload_bytes / 2**20, max_duration_min=config.max_duration_s / 60)


@router.get("/tracks/{track_id}", response_class=HTMLResponse)
def track_page(request: Request, track_id: Annotated[int, PathParam(ge=1, le=2**63 - 1)],
               sessions: SessionsDep) -> HTMLResponse:
    """One catalogued track drawn like a fresh analysis (its stored windows and latest predictions)."""
    with sessions() as session:
        stored = get_track(session, track_id, with_features=False)
    if stored is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no track with id {track_id}")
    view = queries.track_view(stored)
    if queries.audio_file(stored["path"]) is not None:
        view["audio_url"] = str(request.url_for("audio", track_id=track_id).path)
    config = request.app.state.config
    return _render(request, "analyse.html", "track", view=view,
                   max_upload_mb=config.max_upload_bytes / 2**20, max_duration_min=config.max_duration_s / 60)


@router.get("/catalog", response_class=HTMLResponse)
def catalog(
    request: Request,
    sessions: SessionsDep,
    q: str | None = None,
    label: str | None = None,
    decision: str | None = None,
    sort: str | None = None,
    order: str | None = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    page: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    """The catalog: filter by mood and decision, search the path, sort, page; the catalog's mood mix."""
    query = queries.CatalogQuery.clean(q, label, decision, sort, order, limit, page)
    with sessions() as session:
        rows, total = queries.catalog_page(session, query)
        mix = queries.mood_mix(session)
    return _render(request, "catalog.html", "catalog", rows=rows, total=total, query=query, mix=mix,
                   pages=_pages(total, query.limit), sorts=list(queries.SORTS), decisions=queries.DECISION_NAMES,
                   page_sizes=queries.PAGE_SIZES)


@router.get("/review", response_class=HTMLResponse)
def review(
    request: Request,
    sessions: SessionsDep,
    level: str = "track",
    page: Annotated[int, Query(ge=1, le=10**9)] = 1,
) -> HTMLResponse:
    """What was not accepted, least confident first; confirm or correct each with one click or key."""
    level = "window" if level == "window" else "track"
    offset = (page - 1) * REVIEW_PAGE
    with sessions() as session:
        if level == "window":
            items, total = queries.window_review(session, REVIEW_PAGE, offset)
        else:
            items, total = review_queue(session, REVIEW_PAGE, level, offset), count_review(session, level)
    for item in items:
        if queries.audio_file(item.get("path")) is not None:
            item["audio_url"] = str(request.url_for("audio", track_id=item["track_id"]).path)
    return _render(request, "review.html", "review", items=items, total=total, level=level, page=page,
                   pages=_pages(total, REVIEW_PAGE), offset=offset)


def _clean_probability(value: float | None) -> float:
    return 0.0 if value is None else min(1.0, max(0.0, float(value)))


@router.get("/playlists", response_class=HTMLResponse)
def playlists(
    request: Request,
    sessions: SessionsDep,
    mood: str = "relax",
    min_probability: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    page: Annotated[int, Query(ge=1, le=10**9)] = 1,
) -> HTMLResponse:
    """Tracks by the probability of one mood, above a minimum; export as M3U."""
    mood = mood if mood in CLASSES else "relax"
    floor = _clean_probability(min_probability if min_probability is not None else 0.5)
    offset = (page - 1) * PLAYLIST_PAGE
    with sessions() as session:
        items = playlist(session, mood, PLAYLIST_PAGE, offset, floor)
        total = count_playlist(session, mood, floor)
    return _render(request, "playlists.html", "playlists", mood=mood, min_probability=floor, items=items,
                   total=total, page=page, pages=_pages(total, PLAYLIST_PAGE), offset=offset, m3u_max=M3U_MAX)


@router.get("/playlists/{mood}.m3u")
def playlist_m3u(
    mood: Label,
    sessions: SessionsDep,
    min_probability: Annotated[float, Query(ge=0.0, le=1.0)] = 0.0,
    limit: Annotated[int, Query(ge=1, le=M3U_MAX)] = 1000,
) -> Response:
    """The playlist as an extended M3U file (the same writer as ``mer playlist``), most likely first."""
    with sessions() as session:
        items = playlist(session, mood, limit, 0, min_probability)
    out = io.StringIO()
    write_m3u(items, out, mood)
    name = f"{mood}-{min_probability:.2f}.m3u"
    return Response(out.getvalue(), media_type="audio/x-mpegurl; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/audio/{track_id}", name="audio")
def audio(track_id: Annotated[int, PathParam(ge=1, le=2**63 - 1)], sessions: SessionsDep) -> FileResponse:
    """A catalogued track's audio when its file is on this server (batch-catalogued paths; uploads are not kept)."""
    from mer.catalog.models import Track

    with sessions() as session:
        found = session.get(Track, track_id)
        path = queries.audio_file(found.path if found is not None else None)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no playable audio for track {track_id}")
    return FileResponse(path)
