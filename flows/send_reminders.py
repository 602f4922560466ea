"""Remind the agencies that have not reported, on the rung of the ladder due that day."""

import datetime as dt
from dataclasses import asdict

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from config.settings import get_settings
from flows.common import (
    CycleRef,
    artifact_key,
    cycle_ref,
    deliver_messages,
    report_name,
    run_scope,
)
from flows.parameters import KIND, Kind
from models.cycles import get_cycle
from models.database import session_scope
from reporting.reminders import queue_reminders


@task(cache_policy=NO_CACHE)
def queue_reminder_emails(cycle: CycleRef, day: dt.date, now: dt.datetime) -> dict:
    """Queue the rung due on ``day`` for agencies without a current submission."""
    with session_scope() as session:
        run = queue_reminders(
            get_cycle(cycle.programme, cycle.year, session=session, kind=cycle.kind),
            day,
            session=session,
            settings=get_settings(),
            now=now,
        )
    return asdict(run)


@flow(name="send-reminders")
def send_reminders_flow(
    year: int | None = None,
    programme: str | None = None,
    on: dt.date | None = None,
    as_of: dt.datetime | None = None,
    kind: Kind = KIND,
) -> dict:
    """Send the reminder due on ``on`` (default: today) to every agency that has not reported
    in the cycle of ``kind`` (the yearly report or a review)."""
    scope = run_scope(year, programme, as_of)
    programme, year, now = scope.programme, scope.year, scope.now
    cycle = cycle_ref(programme, year, kind)
    day = on or scope.today
    run = queue_reminder_emails(cycle, day, now)
    logger = get_run_logger()
    if run["rung"] is None:
        logger.info("No reminder is due on %s (deadline %s)", day, cycle.deadline)
        return run
    rung = f"D{run['rung']:+d}"
    outcomes = (
        [(a, f"Đã nhắc ({run['own_dates'].get(a, rung)})") for a in run["queued"]]
        + [(a, "Đã báo cáo") for a in run["submitted"]]
        + [(a, "Đã nhắc ở bậc này") for a in run["already_reminded"]]
    )
    create_table_artifact(
        key=artifact_key("reminders", cycle),
        table=[
            {"Cơ quan": run["names"][a], "Kết quả": outcome, "Mã cơ quan": a}
            for a, outcome in outcomes
        ],
        description=f"Nhắc báo cáo bậc {rung}, ngày {day:%d/%m/%Y}: {len(run['queued'])} cơ quan "
        f"được nhắc, {len(run['submitted'])} đã báo cáo, {report_name(cycle)}",
    )
    deliver_messages(cycle, now)
    logger.info(
        "Rung D%+d on %s: %d reminded, %d already reported, %d already reminded",
        run["rung"],
        day,
        len(run["queued"]),
        len(run["submitted"]),
        len(run["already_reminded"]),
    )
    return run
