"""Open a cycle of any kind (the yearly report, the mid-term or final review): create it, ask
every active agency for its report by email, with the form of the cycle's kind."""

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
    report_name,
    run_scope,
)
from flows.parameters import KIND, Kind
from models.cycles import get_cycle, open_cycle
from models.database import session_scope
from models.orm import CycleKind
from reporting.cycle_kinds import kind_of


@task(cache_policy=NO_CACHE)
def create_cycle(
    programme: str,
    year: int,
    opened_on: dt.date,
    kind: CycleKind = CycleKind.ANNUAL,
    deadline: dt.date | None = None,
) -> CycleRef:
    """Create the cycle with the registry in force on ``opened_on`` (kept if it exists); its
    ``deadline`` defaults to the programme's yearly rule."""
    with session_scope() as session:
        cycle, created = open_cycle(
            programme, year, opened_on, session=session, kind=kind, deadline=deadline
        )
        get_run_logger().info(
            "%s %s cycle %d (registry of %s, deadline %s)",
            "Created" if created else "Found existing",
            kind,
            year,
            cycle.registry_version.effective_from,
            cycle.deadline,
        )
    return cycle_ref(programme, year, kind)


@task(cache_policy=NO_CACHE)
def queue_request_emails(cycle: CycleRef, now: dt.datetime) -> list[dict]:
    """One request per active agency (the yearly or the evaluation form, by the cycle's kind),
    each queued as an email once; progress shown in the UI."""
    progress = StageProgress(
        artifact_key("requests", cycle),
        "Chuẩn bị thư đề nghị",
        f"Chuẩn bị thư đề nghị, {report_name(cycle)}",
    )
    with session_scope() as session:
        row = get_cycle(cycle.programme, cycle.year, session=session, kind=cycle.kind)
        rows = kind_of(row).queue_requests(
            row,
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
    kind: Kind = KIND,
    deadline: dt.date | None = None,
) -> dict[str, int]:
    """Open the cycle of ``kind`` for ``year`` and email every agency its request."""
    scope = run_scope(year, programme, as_of)
    programme, year, now = scope.programme, scope.year, scope.now
    cycle = create_cycle(programme, year, opened_on or scope.today, CycleKind(kind), deadline)
    rows = queue_request_emails(cycle, now)
    create_table_artifact(
        key=artifact_key("requests-table", cycle),
        table=requests_table(rows),
        description=f"Cơ quan được đề nghị, {report_name(cycle)} (hạn {cycle.deadline:%d/%m/%Y})",
    )
    counts = deliver_messages(cycle, now)
    queued = sum(row["queued"] for row in rows)
    logger = get_run_logger()
    logger.info("%d agencies requested, %d newly queued", len(rows), queued)
    problems = [row for row in rows if row["problem"]]
    for row in problems:
        logger.error("Not asked: %s (%s): %s", row["name"], row["agency"], row["problem"])
    return {"agencies": len(rows), "queued": queued, "not_asked": len(problems), **counts}
