"""``POST /v1/feedback``: a person's (or a tool's) true label for a track or one of its windows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy import select

from mer.api.deps import SessionsDep, WriteAccess
from mer.api.schemas import FeedbackIn, Problem, StoredFeedback
from mer.catalog import add_feedback
from mer.catalog.models import Feedback

router = APIRouter(prefix="/v1/feedback", tags=["feedback"])


@router.post("", response_model=StoredFeedback, status_code=status.HTTP_201_CREATED, dependencies=[WriteAccess],
             summary="Record the true label of a track or window, with its source and a timestamp",
             responses={401: {"model": Problem, "description": "missing or wrong X-API-Key"},
                        404: {"model": Problem, "description": "no such track, or window not of that track"},
                        422: {"model": Problem, "description": "unknown label or empty source"}})
def feedback(body: FeedbackIn, sessions: SessionsDep, request: Request) -> Any:
    with sessions() as session:
        try:
            with request.app.state.write_lock:
                feedback_id = add_feedback(session, label=body.label, source=body.source, track_id=body.track_id,
                                           window_id=body.window_id)
        except LookupError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
        except ValueError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
        row = session.scalars(select(Feedback).where(Feedback.id == feedback_id)).one()
        return {"id": row.id, "track_id": row.track_id, "window_id": row.window_id, "label": row.label,
                "source": row.source, "created_at": row.created_at}
