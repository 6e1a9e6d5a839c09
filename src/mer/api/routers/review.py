"""``GET /v1/review``: everything not accepted (review and unscorable), least confident first, a page at a time."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from mer.api.deps import SessionsDep
from mer.api.schemas import ReviewPage
from mer.catalog import count_review, review_queue

router = APIRouter(prefix="/v1/review", tags=["catalog"])


@router.get("", response_model=ReviewPage, summary="Tracks (or windows) whose verdict was not accepted")
def review(
    sessions: SessionsDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    level: Annotated[Literal["track", "window"], Query(description="rank whole tracks or single windows")] = "track",
) -> dict[str, Any]:
    """Items already labelled through ``POST /v1/feedback`` leave the queue; unscorable items carry their reason."""
    with sessions() as session:
        return {"total": count_review(session, level), "limit": limit, "offset": offset, "level": level,
                "items": review_queue(session, limit, level, offset)}
