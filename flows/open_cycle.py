"""Open the year's cycle: create it, ask every active agency for its report by email."""

import datetime as dt

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from config.settings import get_settings
from flows.artifact_tables import requests_table
from flows.common import (
    CycleRef,
    StageProgress,
    artifact_key,
    cycle_ref,
    deliver_messages,
    run_scope,
)
from models.cycles import get_cycle, open_cycle
from models.database import session_scope
from reporting.requests import queue_requests


@task(cache_policy=NO_CACHE)
def create_cycle(programme: str, year: int, opened_on: dt.date) -> CycleRef:
    """Create the cycle with the registry in force on ``opened_on`` (kept if it exists)."""
    with session_scope() as session:
        cycle, created = open_cycle(programme, year, opened_on, session=session)
        get_run_logger().info(
            "%s cycle %d (registry of %s, deadline %s)",
            "Created" if created else "Found existing",
            year,
            cycle.registry_version.effective_from,
            cycle.deadline,
        )
    return cycle_ref(programme, year)


@task(cache_policy=NO_CACHE)
def queue_request_emails(cycle: CycleRef, now: dt.datetime) -> list[dict]:
    """One request per active agency, each queued as an email once; progress shown in the UI."""
    progress = StageProgress(
        artifact_key("requests", cycle),
        "Chuẩn bị thư đề nghị",
        f"Requests of cycle {cycle.year} being prepared",
    )
    with session_scope() as session:
        rows = queue_requests(
            get_cycle(cycle.programme, cycle.year, session=session),
            session=session,
            settings=get_settings(),
            now=now,
            progress=progress,
        )
    return [row.__dict__ for row in rows]


@flow(name="open-cycle")
def open_cycle_flow(
    year: int | None = None,
    programme: str | None = None,
    opened_on: dt.date | None = None,
    as_of: dt.datetime | None = None,
) -> dict[str, int]:
    """Open the reporting cycle for ``year`` and email every agency its request."""
    scope = run_scope(year, programme, as_of)
    programme, year, now = scope.programme, scope.year, scope.now
    cycle = create_cycle(programme, year, opened_on or scope.today)
    rows = queue_request_emails(cycle, now)
    create_table_artifact(
        key=artifact_key("requests-table", cycle),
        table=requests_table(rows),
        description=f"Agencies asked to report for {year} (deadline {cycle.deadline:%d/%m/%Y})",
    )
    counts = deliver_messages(cycle, now)
    queued = sum(row["queued"] for row in rows)
    logger = get_run_logger()
    logger.info("%d agencies requested, %d newly queued", len(rows), queued)
    problems = [row for row in rows if row["problem"]]
    for row in problems:
        logger.error("Not asked: %s (%s): %s", row["name"], row["agency"], row["problem"])
    return {"agencies": len(rows), "queued": queued, "not_asked": len(problems), **counts}
