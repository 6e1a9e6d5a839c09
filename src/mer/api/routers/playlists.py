"""``GET /v1/playlists/{mood}``: the tracks most likely to carry a mood (never unscorable ones), a page at a time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from mer.api.deps import SessionsDep
from mer.api.schemas import Label, Playlist
from mer.catalog import count_playlist
from mer.catalog import playlist as playlist_of

router = APIRouter(prefix="/v1/playlists", tags=["catalog"])


@router.get("/{mood}", response_model=Playlist, summary="Top tracks by the probability of one mood")
def playlist(
    mood: Annotated[Label, Path(description="happy, sad, angry or relax; anything else is a 422")],
    sessions: SessionsDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    min_probability: Annotated[float, Query(ge=0.0, le=1.0, description="leave out tracks less likely than this "
                                                                         "to be the mood")] = 0.0,
) -> dict[str, Any]:
    with sessions() as session:
        return {"mood": mood, "min_probability": min_probability, "limit": limit, "offset": offset,
                "total": count_playlist(session, mood, min_probability),
                "items": playlist_of(session, mood, limit, offset, min_probability)}
