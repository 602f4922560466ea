"""Each loaded programme on its own calendar: what is due on which day (a pure table over a
simulated November-December), and the daily cycle-calendar flow starting those runs through
their deployments on Prefect's test harness, once each."""

from __future__ import annotations

import datetime as dt

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.deployments import run_deployment

from config.registry_files import load_programme
from flows.cycle_calendar import DEPLOYMENTS, TAG, cycle_calendar_flow
from flows.serve import deployment_specs, load_flow
from models.cycles import deadline_for, open_cycle
from models.database import session_scope, upgrade_database
from models.orm import Programme
from models.registry_store import load_registry
from reporting.calendar import Action, DueAction, ProgrammeDates, due_actions
from tests.factories import at

R42, EXAMPLE = "vinh-long-r42", "example-elderly-care"
OP, RE, CO = "open", "remind", "consolidate"

# Every day of November-December with something due; every other day has nothing.
# vinh-long-r42: "trước ngày 05/12" (last day 04/12, Friday in 2026; 04/12/2027 is a Saturday:
# Friday 03/12), ladder D-14..D+7, consolidation the day after the last day, opening 02/11.
# example-elderly-care: 15/11 (a Sunday in 2026: Monday 16/11), ladder D-5, D-1, D+2, D+5,
# consolidation two days after, opening 01/11.
EXPECTED = {
    2026: {
        (11, 1): [(EXAMPLE, OP, None)],
        (11, 2): [(R42, OP, None)],
        (11, 11): [(EXAMPLE, RE, -5)],
        (11, 15): [(EXAMPLE, RE, -1)],
        (11, 18): [(EXAMPLE, RE, 2), (EXAMPLE, CO, None)],
        (11, 20): [(R42, RE, -14)],
        (11, 21): [(EXAMPLE, RE, 5)],
        (11, 27): [(R42, RE, -7)],
        (12, 1): [(R42, RE, -3)],
        (12, 3): [(R42, RE, -1)],
        (12, 5): [(R42, RE, 1), (R42, CO, None)],
        (12, 7): [(R42, RE, 3)],
        (12, 11): [(R42, RE, 7)],
    },
    2027: {  # 15/11/2027 is a Monday: no move for the example
        (11, 1): [(EXAMPLE, OP, None)],
        (11, 2): [(R42, OP, None)],
        (11, 10): [(EXAMPLE, RE, -5)],
        (11, 14): [(EXAMPLE, RE, -1)],
        (11, 17): [(EXAMPLE, RE, 2), (EXAMPLE, CO, None)],
        (11, 19): [(R42, RE, -14)],
        (11, 20): [(EXAMPLE, RE, 5)],
        (11, 26): [(R42, RE, -7)],
        (11, 30): [(R42, RE, -3)],
        (12, 2): [(R42, RE, -1)],
        (12, 4): [(R42, RE, 1), (R42, CO, None)],
        (12, 6): [(R42, RE, 3)],
        (12, 10): [(R42, RE, 7)],
    },
}


@pytest.mark.parametrize("year", sorted(EXPECTED))
def test_what_each_shipped_programme_makes_due_over_november_and_december(year):
    calendars = [ProgrammeDates.of_config(load_programme(c).programme) for c in (R42, EXAMPLE)]
    day, found = dt.date(year, 10, 15), {}
    while day <= dt.date(year + 1, 1, 31):
        due = [a for dates in calendars for a in due_actions(dates, day)]
        assert all(a.year == year and a.day == day for a in due)
        if due:
            found[(day.month, day.day)] = [(a.programme, str(a.action), a.rung) for a in due]
        day += dt.timedelta(days=1)
    assert found == EXPECTED[year]


def test_a_cycle_whose_reminders_run_into_january_keeps_its_year():
    dates = ProgrammeDates(
        "cuoi-nam", "Asia/Ho_Chi_Minh", (12, 1), (12, 28), "keep", True, (-7, 5), 4
    )
    assert due_actions(dates, dt.date(2027, 1, 1)) == [
        DueAction(Action.CONSOLIDATE, "cuoi-nam", 2026, dt.date(2027, 1, 1))
    ]
    assert due_actions(dates, dt.date(2027, 1, 2)) == [
        DueAction(Action.REMIND, "cuoi-nam", 2026, dt.date(2027, 1, 2), 5)
    ]


def test_the_calendar_and_the_cycles_share_one_deadline_rule():
    for code in (R42, EXAMPLE):
        source = load_programme(code).programme
        row = Programme(  # as r42 load-registry stores it (models.registry_store)
            code=code,
            timezone=source.timezone,
            deadline_day=source.deadline.day,
            deadline_month=source.deadline.month,
            deadline_weekend=source.deadline.weekend,
            deadline_inclusive=source.deadline_inclusive,
            reminder_ladder=list(source.reminder_ladder),
            opening_day=source.opening.day,
            opening_month=source.opening.month,
            consolidation_days_after_deadline=source.consolidation_days_after_deadline,
        )
        assert ProgrammeDates.of_row(row) == ProgrammeDates.of_config(source)
        for year in range(2024, 2052):
            assert ProgrammeDates.of_row(row).last_day(year) == deadline_for(row, year)


# --- The cycle-calendar flow on Prefect's test harness ---------------------------------------


@pytest.fixture
def deployed(prefect_harness, configure, tmp_path):
    """Both shipped programmes in one SQLite database, and the deployments the calendar starts
    as prefect.yaml defines them (no worker: the runs it starts stay scheduled)."""
    url = f"sqlite:///{tmp_path / 'r42.sqlite3'}"
    configure(R42_DATABASE__URL=url)
    upgrade_database()
    with session_scope() as session:
        for code in (R42, EXAMPLE):
            load_registry(load_programme(code), session=session)
    names = {name.split("/")[1] for name in DEPLOYMENTS.values()}
    ids = [
        load_flow(spec["entrypoint"]).to_deployment(name=spec["name"]).apply()
        for spec in deployment_specs()
        if spec["name"] in names
    ]
    yield
    with get_client(sync_client=True) as client:
        for run in started():
            client.delete_flow_run(run.id)
        for deployment_id in ids:
            client.delete_deployment(deployment_id)


def started() -> list:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[TAG]))
        )


def by_name() -> dict[str, object]:
    runs = started()
    names = [run.name for run in runs]
    assert len(names) == len(set(names)), names  # never two runs of one action
    return {run.name: run for run in runs}


def test_the_calendar_starts_each_due_run_once_through_its_deployment(deployed):
    opening = at(dt.date(2026, 11, 2), 8)
    rows = cycle_calendar_flow(as_of=opening)
    assert rows == [
        {
            "Lượt chạy": "vinh-long-r42-2026: mở kỳ báo cáo",
            "Kết quả": "đã khởi động: vinh-long-r42-2026: mở kỳ báo cáo",
            "Triển khai": "open-cycle/open-cycle",
        }
    ]
    runs = by_name()
    run = runs["vinh-long-r42-2026: mở kỳ báo cáo"]
    assert run.parameters == {
        "year": 2026,
        "programme": R42,
        "opened_on": "2026-11-02",
        "as_of": opening.isoformat(),
    }
    assert set(run.tags) >= {TAG, R42, "2026"} and run.state.is_scheduled()
    with get_client(sync_client=True) as client:
        assert client.read_deployment(run.deployment_id).name == "open-cycle"

    # Ops run the calendar again the same day: nothing new is started.
    again = cycle_calendar_flow(as_of=opening)
    assert again[0]["Kết quả"].startswith("đã có từ trước: vinh-long-r42-2026: mở kỳ báo cáo")
    assert list(by_name()) == ["vinh-long-r42-2026: mở kỳ báo cáo"]
    # Two calendars racing past that check still make one run: the server keys it.
    twice = [
        run_deployment(
            "open-cycle/open-cycle",
            parameters={"year": 2026, "programme": R42},
            idempotency_key=f"{TAG}:{R42}:2026:open",
            timeout=0,
            as_subflow=False,
        )
        for _ in range(2)
    ]
    assert {r.id for r in twice} == {run.id}

    # 18/11: the example's D+2 and its consolidation are due, but its cycle is not open.
    later = at(dt.date(2026, 11, 18), 8)
    waiting = cycle_calendar_flow(as_of=later)
    assert [r["Kết quả"] for r in waiting] == [
        "không chạy: kỳ báo cáo chưa mở (chạy open-cycle trước)"
    ] * 2
    with session_scope() as session:
        open_cycle(EXAMPLE, 2026, dt.date(2026, 11, 1), session=session)
    cycle_calendar_flow(as_of=later)
    runs = by_name()
    assert sorted(runs) == [
        "example-elderly-care-2026: nhắc hạn D+2",
        "example-elderly-care-2026: tổng hợp báo cáo",
        "vinh-long-r42-2026: mở kỳ báo cáo",
    ]
    assert runs["example-elderly-care-2026: nhắc hạn D+2"].parameters == {
        "year": 2026,
        "programme": EXAMPLE,
        "on": "2026-11-18",
        "as_of": later.isoformat(),
    }
    assert runs["example-elderly-care-2026: tổng hợp báo cáo"].parameters == {
        "year": 2026,
        "programme": EXAMPLE,
        "as_of": later.isoformat(),
    }
    # A day with nothing due starts nothing.
    quiet = cycle_calendar_flow(as_of=at(dt.date(2026, 11, 19), 8))
    assert quiet == [] and len(by_name()) == 3
