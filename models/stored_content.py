"""What the latest revision of a request holds, as the intake compares a new post with it
(``reporting.intake.same_content``): from memory when this process stored that revision, else
read as rows (``models.revisions``). A revision's values and task reports never change once
stored, so an agency posting again costs no read of what it sent last.

Kept per request, its latest revision stored here only, under the revision's id and the instant
it was received: a revision whose transaction rolled back is never met again (SQLite may reuse
its id, not its instant), and one another process stored is read from the database.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from sqlalchemy.orm import Session

from models.orm import Submission
from models.revisions import StoredTask, StoredValue, stored_tasks, stored_values

MAX_KEPT = 20_000  # requests (a national cycle has 4,500)

Kept = tuple[int, dt.datetime, dict[int, StoredValue], dict[int, StoredTask]]
_kept: dict[tuple[Any, int], Kept] = {}
_lock = threading.Lock()


def remember(
    submission: Submission,
    values: dict[int, StoredValue],
    tasks: dict[int, StoredTask],
    *,
    session: Session,
) -> None:
    """Keep what ``submission`` (just stored) holds: indicator id -> (value, achieved, note),
    task group id -> (status, results, difficulties, proposals), as inserted."""
    key = (session.get_bind().engine.url, submission.request_id)
    with _lock:
        if len(_kept) >= MAX_KEPT:
            _kept.clear()
        _kept[key] = (submission.id, submission.received_at, values, tasks)


def _kept_for(submission: Submission, session: Session) -> Kept | None:
    kept = _kept.get((session.get_bind().engine.url, submission.request_id))
    if kept is None or kept[0] != submission.id or kept[1] != submission.received_at:
        return None
    return kept


def latest_values(submission: Submission, *, session: Session) -> dict[int, StoredValue]:
    """Indicator id -> (value, achieved, note) of the revision (a copy, the caller's own)."""
    kept = _kept_for(submission, session)
    return dict(kept[2]) if kept else stored_values(submission, session=session)


def latest_tasks(submission: Submission, *, session: Session) -> dict[int, StoredTask]:
    """Task group id -> (status, results, difficulties, proposals) of the revision (a copy)."""
    kept = _kept_for(submission, session)
    return dict(kept[3]) if kept else stored_tasks(submission, session=session)
