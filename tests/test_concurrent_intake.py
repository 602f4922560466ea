"""Simultaneous submissions lose nothing: each is a new revision or a clear IntakeError.

Threads play agencies posting at the same moment, each in its own transaction shaped like the
web form's (a session, a savepoint, then the intake service), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import select

from config.settings import get_settings
from models.cycles import cycle_requests, ensure_requests, get_cycle, open_cycle
from models.database import session_scope
from models.drafts import load_draft, save_draft
from models.orm import AuditEvent, Channel, Submission, SubmissionDraft
from reporting.intake import accept_submission
from tests.factories import PROGRAMME, at, valid_input

DAY = dt.date(2026, 11, 25)


def submit_once(agency: str, barrier: threading.Barrier, read_first: bool, value: str) -> int:
    """One agency's post; with ``read_first`` the request is read before everyone stores at once
    (each thread then holds a pooled connection at the barrier: keep those runs small)."""
    if not read_first:
        barrier.wait(60)
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2026, session=session)
        request = next(r for r in cycle_requests(cycle, session=session) if r.agency.code == agency)
        data = valid_input(request.agency, value)
        if read_first:
            len(request.submissions)  # loaded before the others commit
            barrier.wait(60)
        with session.begin_nested():
            submission = accept_submission(
                request,
                data,
                session=session,
                settings=get_settings(),
                channel=Channel.WEB_FORM,
                submitted_by=f"{agency} (test)",
                now=at(DAY),
            )
        return submission.revision


def run_all(
    agencies: list[str], read_first: bool = False, same: bool = False
) -> tuple[list[tuple[str, int]], list[Exception]]:
    """Each post different (its own value), unless ``same``."""
    barrier = threading.Barrier(len(agencies))
    stored: list[tuple[str, int]] = []
    errors: list[Exception] = []

    def post(agency: str, n: int) -> None:
        value = "50,5" if same else f"{n + 1},5"
        try:
            stored.append((agency, submit_once(agency, barrier, read_first, value)))
        except Exception as exc:  # asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=post, args=(a, n)) for n, a in enumerate(agencies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return stored, errors


def test_simultaneous_submissions_for_one_request_become_successive_revisions(db):
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        agency = ensure_requests(cycle, session=session)[0].agency.code

    stored, errors = run_all([agency] * 6, read_first=True)

    assert errors == []
    assert sorted(revision for _, revision in stored) == [1, 2, 3, 4, 5, 6]
    with session_scope() as session:
        revisions = session.scalars(select(Submission.revision).order_by(Submission.revision))
        assert list(revisions) == [1, 2, 3, 4, 5, 6]
        audited = session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "submission.recorded")
        )
        assert sorted(d["revision"] for d in audited) == [1, 2, 3, 4, 5, 6]


def test_the_same_submission_posted_six_times_at_once_is_one_revision(db):
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        agency = ensure_requests(cycle, session=session)[0].agency.code

    stored, errors = run_all([agency] * 6, read_first=True, same=True)

    assert errors == [] and [revision for _, revision in stored] == [1] * 6
    with session_scope() as session:
        assert list(session.scalars(select(Submission.revision))) == [1]


def test_many_agencies_at_once_with_two_posts_for_the_same_agency(db):
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        agencies = [r.agency.code for r in ensure_requests(cycle, session=session)]
    posts = agencies + agencies[:3]  # three agencies post twice at the same moment

    stored, errors = run_all(posts)

    assert errors == []
    with session_scope() as session:
        rows = session.execute(
            select(Submission.revision, Submission.request_id).order_by(Submission.id)
        ).all()
    assert len(rows) == len(posts) == len(stored)
    for agency in agencies[:3]:
        assert sorted(r for a, r in stored if a == agency) == [1, 2]


def test_simultaneous_draft_saves_for_one_request_keep_one_draft(db):
    """Two tabs of the same form saving at once: one draft, the last save's fields."""
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        agency = ensure_requests(cycle, session=session)[0].agency.code
    barrier = threading.Barrier(6)
    errors: list[Exception] = []

    def save(n: int) -> None:
        try:
            with session_scope() as session:
                cycle = get_cycle(PROGRAMME, 2026, session=session)
                request = next(
                    r for r in cycle_requests(cycle, session=session) if r.agency.code == agency
                )
                assert load_draft(request, session=session) is None  # read before the others
                barrier.wait(60)
                save_draft(request, {"note": f"tab {n}"}, session=session, now=at(DAY))
        except Exception as exc:  # asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert errors == []
    with session_scope() as session:
        drafts = list(session.scalars(select(SubmissionDraft)))
    assert len(drafts) == 1 and drafts[0].data["note"] in {f"tab {n}" for n in range(6)}
