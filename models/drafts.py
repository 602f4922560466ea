"""Drafts an agency saves on its form before submitting."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from models.orm import Request, SubmissionDraft
from models.submissions import lock_request


def load_draft(request: Request, *, session: Session) -> dict[str, Any] | None:
    draft = session.scalar(select(SubmissionDraft).where(SubmissionDraft.request_id == request.id))
    return dict(draft.data) if draft else None


def save_draft(
    request: Request, data: dict[str, Any], *, session: Session, now: dt.datetime
) -> None:
    """Keep the form's fields as typed (one draft per request, overwritten). Saves at the same
    moment for one request take turns (:func:`models.submissions.lock_request`): the later one
    overwrites instead of inserting a second draft."""
    lock_request(request, session=session)
    draft = session.scalar(select(SubmissionDraft).where(SubmissionDraft.request_id == request.id))
    if draft is None:
        draft = SubmissionDraft(request_id=request.id, data=data, saved_at=now)
        session.add(draft)
    draft.data, draft.saved_at = data, now
    session.flush()


DISCARD = delete(SubmissionDraft).where(SubmissionDraft.request_id == bindparam("request_id"))


def discard_draft(request: Request, *, session: Session) -> None:
    """Delete the request's draft, if any (one statement: every stored revision calls this)."""
    session.execute(DISCARD, {"request_id": request.id})
