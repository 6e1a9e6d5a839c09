"""``GET /v1/review``: the low-confidence queue, least confident first, for a person to label."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from mer.api.deps import SessionsDep
from mer.api.schemas import ReviewItem
from mer.catalog import review_queue

router = APIRouter(prefix="/v1/review", tags=["catalog"])


@router.get("", response_model=list[ReviewItem], summary="Tracks (or windows) whose verdict went to review")
def review(
    sessions: SessionsDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    level: Annotated[Literal["track", "window"], Query(description="rank whole tracks or single windows")] = "track",
) -> list[dict[str, Any]]:
    """Items already labelled through ``POST /v1/feedback`` leave the queue."""
    with sessions() as session:
        return review_queue(session, limit, level)
