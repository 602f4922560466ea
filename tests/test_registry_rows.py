"""What an agency reports, as the plain rows the intake reads (models.registry_rows): the same
as the registry's ORM objects, and read afresh once the registry is edited in place."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import inspect, select

from config.registry_files import load_programme
from models.cycles import ensure_requests, open_cycle
from models.database import session_scope
from models.orm import Agency, Cycle, Request
from models.registry_rows import IndicatorRow, TaskGroupRow, reported_rows
from models.registry_store import load_registry
from reporting.revision_summary import receipt_context
from tests.factories import PROGRAMME, submit
from tests.test_registry import V25, copy_programme, rewrite

OPENED = dt.date(2026, 11, 2)


def open_2026() -> None:
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, OPENED, session=session)
        ensure_requests(cycle, session=session)


def request_of(session, agency: str) -> Request:
    return session.scalar(
        select(Request).join(Request.cycle).join(Request.agency).where(
            Cycle.year == 2026, Agency.code == agency
        )
    )


def test_the_rows_are_what_the_registry_says_for_every_agency(db):
    open_2026()
    with session_scope() as session:
        requests = session.scalars(select(Request)).all()
        version = requests[0].cycle.registry_version_id
        agencies = session.scalars(select(Agency).where(Agency.registry_version_id == version))
        reporters = Counter(i.id for a in agencies for i in a.indicators)  # active or not
        for request in requests:
            rows = reported_rows(request, session=session)
            indicators = [
                IndicatorRow(*(getattr(i, name) for name in IndicatorRow.__slots__))
                for i in request.agency.indicators
            ]
            groups = [
                TaskGroupRow(g.id, g.code, g.number, g.name) for g in request.agency.task_groups
            ]
            assert list(rows.indicators) == indicators  # in form order (by number)
            assert list(rows.task_groups) == groups
            assert rows.sole == {i.id for i in indicators if reporters[i.id] == 1}
            assert rows.by_code == {i.code: i for i in indicators}
            assert rows.year_on_year_factor == request.cycle.programme.year_on_year_factor
        assert any(reported_rows(r, session=session).indicators for r in requests)


def test_a_registry_edited_in_place_is_read_again(db, tmp_path):
    open_2026()
    submit(2026, ["so-y-te"], OPENED)
    with session_scope() as session:
        request = request_of(session, "so-y-te")
        before = reported_rows(request, session=session)
        receipt_before = receipt_context(request.submissions[0])
    dropped = before.task_groups[-1].code
    renamed = "Tỷ lệ đã đổi tên"

    def edit(data: dict) -> None:
        agency = next(a for a in data["agencies"] if a["code"] == "so-y-te")
        agency["task_groups"].remove(dropped)

    root = copy_programme(tmp_path, V25, edit)
    code = before.indicators[0].code
    rewrite(
        root / PROGRAMME / "programme.yaml",
        lambda d: next(t for t in d["targets"] if t["code"] == code).update(name=renamed),
    )
    with session_scope() as session:
        summary = load_registry(load_programme(PROGRAMME, root=root), session=session)
    assert summary.updated == ["programme", "registry 2025-07-01"]

    with session_scope() as session:
        after = reported_rows(request_of(session, "so-y-te"), session=session)
    assert [g.code for g in after.task_groups] == [g.code for g in before.task_groups[:-1]]
    assert after.indicators[0].name == renamed
    assert after.indicators[1:] == before.indicators[1:]
    with session_scope() as session:  # the revision stored before: its receipt still whole
        receipt_after = receipt_context(request_of(session, "so-y-te").submissions[0])
    assert receipt_after["tasks"] == receipt_before["tasks"]  # the dropped group read by itself
    assert [v.name for v in receipt_after["values"]] == [renamed] + [
        v.name for v in receipt_before["values"][1:]
    ]


def test_rows_and_facts_are_kept_in_one_store_under_one_key(db):
    """One key whatever the cycle has loaded (the portal joins its version; an email's cycle
    may not), one store for the intake's rows and the emails' facts."""
    from models import registry_cache
    from models.registry_cache import registry_content, registry_facts

    open_2026()
    with session_scope() as session:
        request = request_of(session, "so-y-te")
        loaded = registry_content(request.cycle, session=session)
        rows, facts = reported_rows(request, session=session), registry_facts(request.cycle)
    with session_scope() as session:
        cycle = session.scalar(select(Cycle).where(Cycle.year == 2026))  # version not loaded
        assert "registry_version" in inspect(cycle).unloaded
        assert registry_content(cycle, session=session) == loaded
        assert "registry_version" in inspect(cycle).unloaded  # the key read no document
        assert registry_facts(cycle) is facts
    kept = registry_cache._kept
    assert kept[(loaded, ("reported", request.agency_id))] is rows
    assert kept[(loaded, "facts")] is facts
