"""Intake: valid submissions become revisions; wrong ones are refused by field, storing nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models.cycles import ensure_requests, get_cycle, open_cycle
from models.database import session_scope
from models.orm import (
    Agency,
    AuditEvent,
    Channel,
    Cycle,
    IndicatorValue,
    Request,
    Submission,
    TaskReport,
)
from reporting.intake import record_submission
from reporting.submission_input import IntakeError, TaskReportInput
from tests.factories import PROGRAMME, at, valid_input

OPENED = dt.date(2026, 11, 2)
DEADLINE = dt.date(2026, 12, 4)  # 05/12/2026 is a Saturday


@pytest.fixture
def cycle_2026(db):
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, OPENED, session=session)
        ensure_requests(cycle, session=session)
        return cycle.id


def request_of(session, agency: str) -> Request:
    return session.scalar(
        select(Request)
        .join(Request.cycle)
        .join(Request.agency)
        .where(Cycle.year == 2026, Agency.code == agency)
    )


def record(session, request, data, when=None, by="test"):
    return record_submission(
        request,
        data,
        session=session,
        channel=Channel.WEB_FORM,
        submitted_by=by,
        submitted_at=when or at(dt.date(2026, 11, 20)),
    )


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def refuse(agency: str, edit) -> list:
    """Submit ``edit``ed valid input inside a session that commits anyway; nothing may be kept."""
    with session_scope() as session:
        request = request_of(session, agency)
        data = valid_input(request.agency)
        edit(data)
        with pytest.raises(IntakeError) as info:
            record(session, request, data)
        request_id = request.id
    with session_scope() as session:
        assert count(session, Submission, Submission.request_id == request_id) == 0
        assert count(session, Submission) == 0
        assert count(session, IndicatorValue) == 0
        assert count(session, TaskReport) == 0
        assert count(session, AuditEvent, AuditEvent.action == "submission.recorded") == 0
    return info.value.errors


def test_a_valid_submission_is_stored_as_revision_1(cycle_2026):
    with session_scope() as session:
        request = request_of(session, "so-y-te")
        data = valid_input(request.agency)
        data.values.update(
            allowance_poor_households="99,5",
            health_managed="99.5",
            minimum_living="không",
            aids_tb=True,
            fertility=2.1,
        )
        data.tasks["resources"] = TaskReportInput(status="not_started", results="  ")
        data.notes["doctors"] = "  Số liệu ước tính.\n"
        data.adjustment_proposals = " Bổ sung chỉ tiêu. "
        record(session, request, data)
        request_id = request.id
        indicators = {i.code for i in request.agency.indicators}
        groups = {g.code for g in request.agency.task_groups}
    with session_scope() as session:
        (submission,) = session.scalars(
            select(Submission).where(Submission.request_id == request_id)
        )
        values = {v.indicator.code: (v.value, v.achieved) for v in submission.values}
        notes = {v.indicator.code: v.note for v in submission.values if v.note}
        tasks = {t.task_group.code: (t.status, t.results) for t in submission.task_reports}
        assert count(session, IndicatorValue) == len(indicators) == 12
        assert count(session, TaskReport) == len(groups) == 6
    assert (submission.revision, submission.is_late, submission.channel) == (1, False, "web_form")
    assert set(values) == indicators and set(tasks) == groups
    assert values["allowance_poor_households"] == (Decimal("99.5"), None)
    assert values["health_managed"] == (Decimal("99.5"), None)
    assert values["fertility"] == (Decimal("2.1"), None)
    assert values["doctors"] == (Decimal("50.5"), None)  # valid_input's "50,5"
    assert notes == {"doctors": "Số liệu ước tính."}
    assert submission.adjustment_proposals == "Bổ sung chỉ tiêu."
    assert values["minimum_living"] == (None, False)
    assert values["aids_tb"] == (None, True)
    assert tasks["resources"] == ("not_started", "")
    assert tasks["basic_services"] == ("done", "Đã thực hiện nhóm 6.")


def test_a_second_submission_is_revision_2_and_revision_1_stays(cycle_2026):
    for answer in ("không", "có"):
        with session_scope() as session:
            request = request_of(session, "so-y-te")
            data = valid_input(request.agency)
            data.values["minimum_living"] = answer
            record(session, request, data)
    with session_scope() as session:
        request = request_of(session, "so-y-te")
        answers = [
            (s.revision, next(v.achieved for v in s.values if v.indicator.code == "minimum_living"))
            for s in request.submissions
        ]
        assert count(session, IndicatorValue) == 2 * len(request.agency.indicators)
    assert answers == [(1, False), (2, True)]


XAY_DUNG = "so-xay-dung"  # counts, rates and percents; task groups 1, 2 and 6


def _set(code, value):
    return lambda data: data.values.__setitem__(code, value)


def _unset(code):
    return lambda data: data.values.pop(code)


def _task(group, status, results="Xong."):
    return lambda data: data.tasks.__setitem__(
        group, TaskReportInput(status=status, results=results)
    )


def case(name, edit, field, fragment):
    return pytest.param(edit, field, fragment, id=name)


V, T = "values.", "tasks."
REFUSED = [  # edit of a valid input, the one field named, a fragment of its Vietnamese message
    case("percent-over-100", _set("urban_clean_water", "100,5"), V + "urban_clean_water", "0-100"),
    case("negative-count", _set("social_housing", "-3"), V + "social_housing", "số âm"),
    case("negative-rate", _set("floor_area", -0.5), V + "floor_area", "số âm"),
    case("text", _set("floor_area", "abc"), V + "floor_area", "Phải là một số"),
    case("bool-for-number", _set("wastewater_treated", True), V + "wastewater_treated", "một số"),
    case(
        "non-integer-count", _set("temporary_houses", "12,5"), V + "temporary_houses", "số nguyên"
    ),
    case("too-precise", _set("floor_area", "27,12345"), V + "floor_area", "4 chữ số thập phân"),
    case("missing-value", _unset("wastewater_treated"), V + "wastewater_treated", "Chưa nhập"),
    case("blank-value", _set("urban_clean_water", "  "), V + "urban_clean_water", "Chưa nhập"),
    case("foreign-indicator", _set("doctors", "9"), V + "doctors", "không thuộc"),
    case(
        "missing-status",
        lambda d: d.tasks.pop("basic_services"),
        T + "basic_services.status",
        "tình trạng",
    ),
    case(
        "unknown-status",
        _task("communication", "finished"),
        T + "communication.status",
        "tình trạng",
    ),
    case(
        "no-results",
        _task("state_management", "in_progress", " \n"),
        T + "state_management.results",
        "kết quả",
    ),
    case("foreign-task-group", _task("merit", "done"), T + "merit", "không thuộc"),
]


@pytest.mark.parametrize("edit, field, fragment", REFUSED)
def test_a_wrong_field_is_named_and_nothing_is_stored(cycle_2026, edit, field, fragment):
    errors = refuse(XAY_DUNG, edit)
    assert [e.field for e in errors] == [field]
    assert fragment in errors[0].message


def test_a_yes_no_indicator_refuses_other_answers(cycle_2026):
    (error,) = refuse("so-y-te", _set("aids_tb", "có lẽ"))
    assert error.field == "values.aids_tb" and "Có" in error.message


def test_every_error_is_reported_at_once(cycle_2026):
    def break_everything(data):
        data.values.update(
            urban_clean_water="100,5", social_housing="-1", temporary_houses="1,5", doctors="3"
        )
        data.values.pop("floor_area")
        data.tasks.pop("communication")
        data.tasks["basic_services"] = TaskReportInput(status="done")

    found = refuse(XAY_DUNG, break_everything)
    errors = {e.field: e.message for e in found}
    wrong = ("urban_clean_water", "social_housing", "temporary_houses", "doctors", "floor_area")
    expected = {V + code for code in wrong} | {
        T + "communication.status",
        T + "basic_services.results",
    }
    assert set(errors) == expected and len(found) == 7
    assert "0-100" in errors["values.urban_clean_water"]
    assert "số âm" in errors["values.social_housing"]
    assert "số nguyên" in errors["values.temporary_houses"]


def test_late_marking_follows_the_deadline_in_vietnam(cycle_2026):
    moments = {
        "so-y-te": at(DEADLINE, 23),
        XAY_DUNG: at(DEADLINE + dt.timedelta(days=1), 0),
        "so-gddt": dt.datetime(2026, 12, 4, 17, 30, tzinfo=dt.UTC),
    }
    with session_scope() as session:
        for agency, moment in moments.items():
            request = request_of(session, agency)
            record(session, request, valid_input(request.agency), when=moment)
    with session_scope() as session:
        stored = session.scalars(select(Submission)).all()
        late = {s.request.agency.code: s.is_late for s in stored}
        submitted = {s.request.agency.code: s.submitted_at for s in stored}
    assert late == {"so-y-te": False, XAY_DUNG: True, "so-gddt": True}
    assert submitted == moments


def test_a_locked_cycle_refuses_even_a_valid_submission(cycle_2026):
    with session_scope() as session:
        get_cycle(PROGRAMME, 2026, session=session).status = "locked"
    (error,) = refuse(XAY_DUNG, lambda data: None)
    assert error.field == "cycle" and "khóa" in error.message


def test_each_stored_submission_writes_an_audit_event(cycle_2026):
    posts = (("so-y-te", "a@soyte", "50,5"), ("so-y-te", "b@soyte", "60,5"), (XAY_DUNG, "c@soxd", "1"))
    for agency, by, value in posts:  # b's differs from a's: the same twice is one revision
        with session_scope() as session:
            request = request_of(session, agency)
            record(session, request, valid_input(request.agency, value), by=by)
    with session_scope() as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "submission.recorded")
            .order_by(AuditEvent.id)
        ).all()
        assert {e.cycle_id for e in events} == {cycle_2026}
    seen = [(e.actor, e.detail["agency"], e.detail["revision"], e.detail["late"]) for e in events]
    assert seen == [
        ("a@soyte", "so-y-te", 1, False),
        ("b@soyte", "so-y-te", 2, False),
        ("c@soxd", XAY_DUNG, 1, False),
    ]
