"""Submissions as stored: the lock that serialises an agency's writes, and what is current.

What a submission must say and how a new revision is recorded is the intake's
(``reporting.intake``); this module holds the data functions it and the drafts use.
"""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from models.cycles import current_submission
from models.orm import Cycle, IndicatorValue, Request, Submission
from models.request_graph import as_loaded, columns_of


SUBMISSION = columns_of(Submission)
LATEST = (  # the cycle's status and the request's latest revision's columns (None: no revision)
    select(Cycle.status, *(getattr(Submission, key) for key in SUBMISSION))
    .select_from(Request)
    .join(Cycle, Cycle.id == Request.cycle_id)
    .outerjoin(Submission, Submission.request_id == Request.id)
    .where(Request.id == bindparam("request_id"))
    .order_by(Submission.revision.desc())
    .limit(1)
)


# Built once: a statement costs more to build than to run from SQLAlchemy's cache. Core, on
# the table: the ORM's execution path cost a third of the lock (it changes no object).
_REQUEST = Request.__table__
LOCK_ROW = select(_REQUEST.c.id).where(_REQUEST.c.id == bindparam("request_id")).with_for_update()
INSERT_SUBMISSION = insert(Submission.__table__)
TAKE_WRITE_LOCK = (  # SQLite: a no-op UPDATE
    update(_REQUEST).where(_REQUEST.c.id == bindparam("request_id")).values(id=_REQUEST.c.id)
)


def lock_request(request: Request, *, session: Session) -> Submission | None:
    """Hold the request until the transaction ends, then re-read what others committed;
    returns its latest revision (one row: not every revision, so a post costs the same at the
    hundredth revision as at the first), the cycle's current status read with it.

    PostgreSQL: the request row is locked FOR UPDATE. SQLite has no row locks: a no-op UPDATE
    takes the database write lock, and does so as the first statement of the transaction, since
    a SQLite transaction that has read cannot wait for the lock (it fails "database is locked").
    The latest revision is read by a statement of its own after the lock: on PostgreSQL a
    statement sees what was committed when it started, so one that waited for the lock would
    miss the revision committed by the transaction it waited for.
    """
    session.flush()  # what the session holds unflushed is read as the ORM's execution would
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(LOCK_ROW, {"request_id": request.id})
    else:
        connection.execute(TAKE_WRITE_LOCK, {"request_id": request.id})
    session.expire(request, ["submissions"])
    # a row, and the session's object built from it: the ORM's loading of one Submission cost
    # twice that
    status, *values = connection.execute(LATEST, {"request_id": request.id}).one()
    set_committed_value(request.cycle, "status", status)  # locked meanwhile: seen now
    latest = dict(zip(SUBMISSION, values, strict=True))
    return None if latest["id"] is None else as_loaded(session, Submission, latest)


def insert_revision(request: Request, *, session: Session, **columns: object) -> Submission:
    """Store a new revision of ``request`` (every column of ``submission`` but its id given)
    in one INSERT, and return it as the session's own object without reading it back: a
    flush of one ORM object cost a post about as much as its 41 value and task rows."""
    result = session.execute(INSERT_SUBMISSION, {"request_id": request.id, **columns})
    key = result.inserted_primary_key[0]  # as if loaded: its values and task reports read on use
    submission = as_loaded(session, Submission, {"id": key, "request_id": request.id, **columns})
    set_committed_value(submission, "request", request)  # its audit line and receipt read it
    return submission


def current_values(requests: list[Request]) -> dict[str, IndicatorValue]:
    """Indicator code -> value from the current submission of each request."""
    values: dict[str, IndicatorValue] = {}
    for request in requests:
        submission = current_submission(request)
        for value in submission.values if submission else []:
            values[value.indicator.code] = value
    return values
