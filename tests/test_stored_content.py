"""The latest revision a post is compared with: kept in memory by the process that stored it,
never trusted for a revision it did not store (rolled back, or stored by another process)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import stored_content
from models.database import session_scope
from models.orm import Submission
from tests.factories import valid_input
from tests.test_intake import cycle_2026, record, request_of  # noqa: F401


class RolledBack(Exception):
    pass


def revisions(session) -> list[tuple[int, int]]:
    return [tuple(row) for row in session.execute(select(Submission.id, Submission.revision))]


def test_the_same_post_again_is_unchanged_from_memory_or_from_the_database(
    cycle_2026,  # noqa: F811
):
    with session_scope() as session:
        request = request_of(session, "so-y-te")
        record(session, request, valid_input(request.agency))
    with session_scope() as session:  # kept by this process
        request = request_of(session, "so-y-te")
        assert record(session, request, valid_input(request.agency)).unchanged
    stored_content._kept.clear()  # as a process that did not store it: read from the database
    with session_scope() as session:
        request = request_of(session, "so-y-te")
        assert record(session, request, valid_input(request.agency)).unchanged
        data = valid_input(request.agency)
        next(iter(data.tasks.values())).results += " Thêm."
        assert not record(session, request, data).unchanged
        assert [revision for _, revision in revisions(session)] == [1, 2]


def test_a_rolled_back_revision_is_not_taken_for_the_one_stored_with_its_id(
    cycle_2026,  # noqa: F811
):
    """A revision whose transaction rolled back leaves its content in memory; SQLite gives the
    next revision its id. A post of the rolled-back content is a new revision, not unchanged."""
    stored_content._kept.clear()
    with pytest.raises(RolledBack), session_scope() as session:
        request = request_of(session, "so-y-te")
        record(session, request, valid_input(request.agency, "60,5"))
        raise RolledBack
    left = dict(stored_content._kept)  # what a process whose transaction rolled back keeps
    assert len(left) == 1
    with session_scope() as session:  # another process stores a different report
        request = request_of(session, "so-y-te")
        record(session, request, valid_input(request.agency, "70,5"))
    stored_content._kept.clear()
    stored_content._kept.update(left)
    with session_scope() as session:
        request = request_of(session, "so-y-te")
        [(kept_id, *_)] = left.values()
        if session.get_bind().dialect.name == "sqlite":  # PostgreSQL's sequence moved on
            assert revisions(session) == [(kept_id, 1)]  # the same id, as the memory has it
        assert not record(session, request, valid_input(request.agency, "60,5")).unchanged
        assert [revision for _, revision in revisions(session)] == [1, 2]
