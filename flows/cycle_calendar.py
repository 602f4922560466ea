"""Every loaded programme on its own calendar: one daily run starts what is due that day.

For each programme in the database (``r42 load-registry``), its dates (opening day, deadline
with its inclusive and weekend rules, reminder ladder, consolidation day: ``programme.yaml``)
say what is due today in its timezone (``reporting.calendar``); each due action is started
as a run of its own deployment, named for the programme and the year, without waiting for it.

Running it twice the same day starts nothing twice: every run is created with an idempotency
key (programme, year, action, rung). The Prefect server creates at most one flow run per flow
and key (a unique index, so two calendar runs racing still make one), and the key outlives
the run's state; the calendar also reads the runs already made under its keys to say so.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterIdempotencyKey
from prefect.deployments import run_deployment
from sqlalchemy import select

from flows.parameters import asked
from models.database import check_schema, session_scope
from models.orm import Cycle, CycleKind, CycleStatus, Programme, Request
from reporting.calendar import Action, DueAction, ProgrammeDates, due_actions, own_ladder_due

DEPLOYMENTS = {
    Action.OPEN: "open-cycle/open-cycle",
    Action.REMIND: "send-reminders/send-reminders",
    Action.CONSOLIDATE: "consolidate/consolidate",
}
TAG = "cycle-calendar"


def run_name(due: DueAction) -> str:
    """'vinh-long-r42-2026: nhắc hạn D-14', as the run shows in the UI."""
    what = {
        Action.OPEN: "mở kỳ báo cáo",
        Action.REMIND: f"nhắc hạn D{due.rung:+d}" if due.rung is not None else "nhắc hạn (gia hạn)",
        Action.CONSOLIDATE: "tổng hợp báo cáo",
    }[due.action]
    return f"{due.programme}-{due.year}: {what}"


def idempotency_key(due: DueAction) -> str:
    """One run per programme, year and action (per rung for reminders), whatever the day; a
    reminder run for agencies' own ladders (no rung): one per day."""
    rung = f":{due.rung:+d}" if due.rung is not None else (
        f":{due.day.isoformat()}" if due.action is Action.REMIND else ""
    )
    return f"{TAG}:{due.programme}:{due.year}:{due.action}{rung}"


def run_parameters(due: DueAction, as_of: dt.datetime | None) -> dict[str, object]:
    """The started flow's parameters (JSON); ``as_of`` is passed on when simulating."""
    parameters: dict[str, object] = {"year": due.year, "programme": due.programme}
    if due.action is Action.OPEN:
        parameters["opened_on"] = due.day.isoformat()
    elif due.action is Action.REMIND:
        parameters["on"] = due.day.isoformat()
    if as_of is not None:
        parameters["as_of"] = as_of.isoformat()
    return parameters


@task(cache_policy=NO_CACHE)
def work_out_due(now: dt.datetime) -> tuple[list[DueAction], set[tuple[str, int]]]:
    """Every loaded programme's actions due on its own date of ``now``, and the yearly cycles
    that exist (a reminder or consolidation needs its cycle opened)."""
    due: list[DueAction] = []
    with session_scope() as session:
        granted: dict[tuple[str, int], list[dt.date]] = {}
        for code, year, until in session.execute(
            select(Programme.code, Cycle.year, Request.extended_until)
            .join(Cycle, Cycle.programme_id == Programme.id)
            .join(Request, Request.cycle_id == Cycle.id)
            .where(
                Cycle.kind == CycleKind.ANNUAL,
                Cycle.status == CycleStatus.OPEN,
                Request.extended_until.is_not(None),
            )
        ):
            granted.setdefault((code, year), []).append(until)
        for row in session.scalars(select(Programme).order_by(Programme.code)):
            today = now.astimezone(ZoneInfo(row.timezone)).date()
            dates = ProgrammeDates.of_row(row)
            mine = due_actions(dates, today)
            for (code, year), days in granted.items():
                own = own_ladder_due(dates, year, days, today, mine) if code == row.code else None
                mine += [own] if own else []
            due += mine
        opened = {
            (code, year)
            for code, year in session.execute(
                select(Programme.code, Cycle.year)
                .join(Cycle, Cycle.programme_id == Programme.id)
                .where(Cycle.kind == CycleKind.ANNUAL)
            )
        }
    return due, opened


def runs_by_key(keys: list[str]) -> dict[str, object]:
    """Flow runs already created under these idempotency keys."""
    if not keys:
        return {}
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(idempotency_key=FlowRunFilterIdempotencyKey(any_=keys))
        )
    return {run.idempotency_key: run for run in runs}


@flow(name="cycle-calendar")
def cycle_calendar_flow(
    as_of: dt.datetime | None = asked(
        "Thời điểm",
        "Để trống: hôm nay. Chỉ dùng khi chạy thử hoặc chạy bù một ngày đã lỡ: coi như đang ở "
        "thời điểm này (các lượt chạy được khởi động cũng nhận thời điểm này)",
        None,
    ),
) -> list[dict[str, str]]:
    """Start what each loaded programme's calendar makes due today (opening, reminder rung,
    consolidation), each as its own run named for the programme and the year; never twice."""
    if as_of is not None and as_of.tzinfo is None:
        raise ValueError("as_of must carry a timezone, e.g. 2026-12-01T08:00:00+07:00")
    check_schema()
    logger = get_run_logger()
    due, opened = work_out_due(as_of or dt.datetime.now(dt.UTC))
    existing = runs_by_key([idempotency_key(d) for d in due])
    rows: list[dict[str, str]] = []
    for item in due:
        key, name = idempotency_key(item), run_name(item)
        row = {"Lượt chạy": name, "Kết quả": "", "Triển khai": DEPLOYMENTS[item.action]}
        if item.action is not Action.OPEN and (item.programme, item.year) not in opened:
            row["Kết quả"] = "không chạy: kỳ báo cáo chưa mở (chạy open-cycle trước)"
            logger.warning("%s not started: cycle %d is not open", name, item.year)
        elif key in existing:
            found = existing[key]
            row["Kết quả"] = f"đã có từ trước: {found.name} ({found.state_name})"
            logger.info("%s already started as %s (%s)", name, found.name, found.state_name)
        else:
            started = run_deployment(
                DEPLOYMENTS[item.action],
                parameters=run_parameters(item, as_of),
                flow_run_name=name,
                tags=[TAG, item.programme, str(item.year)],
                idempotency_key=key,
                timeout=0,
                as_subflow=False,  # its own run, not a child of the calendar's
            )
            row["Kết quả"] = f"đã khởi động: {started.name}"
            logger.info("Started %s (%s)", started.name, started.id)
        rows.append(row)
    if not rows:
        logger.info("Nothing is due today in any loaded programme")
    create_table_artifact(
        key=TAG,
        table=rows or [{"Lượt chạy": "", "Kết quả": "hôm nay không có việc", "Triển khai": ""}],
        description="Việc đến hạn hôm nay theo lịch của từng chương trình",
    )
    return rows
