"""``GET /v1/tracks`` (pages of the catalog) and ``GET /v1/tracks/{track_id}`` (one track in full)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from mer.api.deps import SessionsDep
from mer.api.schemas import Label, Problem, TrackDetail, TrackPage
from mer.catalog import count_tracks, get_track, list_tracks

router = APIRouter(prefix="/v1/tracks", tags=["catalog"])


@router.get("", response_model=TrackPage, summary="A page of scored tracks, oldest first")
def tracks(
    sessions: SessionsDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    label: Annotated[Label | None, Query(description="only tracks whose verdict is this class")] = None,
) -> dict[str, Any]:
    with sessions() as session:
        return {"total": count_tracks(session, label), "limit": limit, "offset": offset,
                "items": list_tracks(session, limit, offset, label)}


@router.get("/{track_id}", response_model=TrackDetail, summary="One track: verdict, windows, features, feedback",
            responses={404: {"model": Problem, "description": "no such track"}})
def track(track_id: int, sessions: SessionsDep) -> dict[str, Any]:
    with sessions() as session:
        found = get_track(session, track_id) if 0 < track_id < 2**63 else None
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no track with id {track_id}")
    return found
