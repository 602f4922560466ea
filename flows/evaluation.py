"""The 2025 mid-term review (sơ kết) and the 2030 final review (tổng kết) as flows.

Each review is a collection round like the yearly cycle, with the evaluation form: open it
(requests with the personal link and the Excel form), remind on the programme's ladder, then
evaluate every indicator and write the evaluation report (DOCX, XLSX, HTML). One run does the
step asked, or with ``step="auto"`` whatever is due on the day: open the round if it is not
open, send the reminder rung due, and evaluate once the deadline has passed. Every step is
idempotent: a second run changes nothing and sends nothing again.
"""

import datetime as dt
from pathlib import Path
from typing import Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from config import DATA_DIR
from config.settings import get_settings
from documents.evaluation_report import (
    document_paths,
    evaluation_markdown,
    write_evaluation_documents,
)
from flows.artifact_tables import requests_table
from flows.common import CycleRef, cycle_ref, deliver_messages, run_scope
from models.cycles import find_cycle, get_cycle, local_today, open_cycle
from models.database import session_scope
from models.orm import CycleKind, ReportStatus
from models.reports import record_decision, save_draft
from reporting.evaluation import evaluate
from reporting.evaluation_requests import queue_evaluation_requests
from reporting.reminders import queue_reminders

Step = Literal["auto", "open", "remind", "evaluate"]
OUTPUT_DIR = DATA_DIR / "evaluations"


@task(cache_policy=NO_CACHE)
def open_round(
    programme: str, year: int, kind: str, opened_on: dt.date, deadline: dt.date | None
) -> CycleRef:
    """Create the round with the registry in force on ``opened_on`` (kept if it exists)."""
    with session_scope() as session:
        cycle, created = open_cycle(
            programme, year, opened_on, session=session, kind=kind, deadline=deadline
        )
        get_run_logger().info(
            "%s %s round %d (registry of %s, deadline %s)",
            "Created" if created else "Found existing",
            kind,
            year,
            cycle.registry_version.effective_from,
            cycle.deadline,
        )
    return cycle_ref(programme, year, kind)


@task(cache_policy=NO_CACHE)
def queue_round_requests(cycle: CycleRef, now: dt.datetime) -> list[dict]:
    """One evaluation request per active agency, each queued as an email once."""
    with session_scope() as session:
        rows = queue_evaluation_requests(
            get_cycle(cycle.programme, cycle.year, session=session, kind=cycle.kind),
            session=session,
            settings=get_settings(),
            now=now,
        )
    return [row.__dict__ for row in rows]


@task(cache_policy=NO_CACHE)
def queue_round_reminders(cycle: CycleRef, day: dt.date, now: dt.datetime) -> dict:
    """The rung due on ``day``, for agencies without a current evaluation report."""
    with session_scope() as session:
        run = queue_reminders(
            get_cycle(cycle.programme, cycle.year, session=session, kind=cycle.kind),
            day,
            session=session,
            settings=get_settings(),
            now=now,
        )
    return {"rung": run.rung, "queued": run.queued, "submitted": run.submitted}


@task(cache_policy=NO_CACHE)
def evaluate_round(
    cycle: CycleRef,
    now: dt.datetime,
    output_dir: str,
    number: str | None = None,
    signer: str | None = None,
) -> dict:
    """Evaluate every indicator, store a draft revision if it changed, write the documents.

    With a report ``number`` (and ``signer``) the coordinator approves the revision: the
    documents then carry the number, the signer and the day, without the draft mark. An
    approved report is kept as it is: later runs neither redraft nor rewrite it.
    """
    with session_scope() as session:
        row = get_cycle(cycle.programme, cycle.year, session=session, kind=cycle.kind)
        evaluation = evaluate(row, session=session, as_of=now)
        report, created = save_draft(
            row,
            session=session,
            content_hash=evaluation.content_hash(),
            data=evaluation.as_data(),
            markdown=evaluation_markdown(evaluation),
            html="",
            now=now,
        )
        if number and report.status == ReportStatus.DRAFT:
            record_decision(
                report, session=session, approve=True, actor="coordinator", now=now,
                number=number, signer=signer,
            )  # fmt: skip
        folder = Path(output_dir)
        approved = report.status != ReportStatus.DRAFT
        if report.content_hash == evaluation.content_hash() and (created or number or not approved):
            files = write_evaluation_documents(
                evaluation,
                row.registry_version.document,
                folder,
                draft=not approved,
                number=report.number,
                signer=report.signer,
                day=local_today(row.programme, report.decided_at) if approved else None,
            )
            report.html = files["html"].read_text(encoding="utf-8")
        files = document_paths(evaluation, folder)
        return {
            "revision": report.revision,
            "created": created,
            "status": str(report.status),
            "files": {k: str(v) for k, v in files.items()},
            "markdown": report.markdown,
            "indicators": [
                {
                    "no": i.number,
                    "indicator": i.name,
                    "target": i.target,
                    **{t["year"]: t["value"] for t in i.series_text},
                    "status": i.progress_text,
                }
                for i in evaluation.indicators
            ],
            "counts": {"on_time": evaluation.on_time, "late": evaluation.late},
            "missing": evaluation.missing,
            "status_counts": evaluation.status_counts,
        }


def run_review(
    kind: str,
    year: int,
    step: Step,
    programme: str | None,
    opened_on: dt.date | None,
    deadline: dt.date | None,
    on: dt.date | None,
    as_of: dt.datetime | None,
    output_dir: str | None,
    number: str | None = None,
    signer: str | None = None,
) -> dict:
    """The steps of one review run, shared by both review flows."""
    scope = run_scope(year, programme, as_of)
    programme, now, day = scope.programme, scope.now, on or scope.today
    logger = get_run_logger()
    result: dict = {"kind": kind, "year": year, "day": day.isoformat()}
    with session_scope() as session:
        exists = find_cycle(programme, year, session=session, kind=kind) is not None
    if step == "auto" and not exists and day.year != year:
        logger.info("Nothing due on %s: the %s review of %d is not open", day, kind, year)
        return result  # a scheduled run in another year never opens the round early
    if step == "open" or (step == "auto" and not exists):
        cycle = open_round(programme, year, kind, opened_on or day, deadline)
        rows = queue_round_requests(cycle, now)
        create_table_artifact(
            key=f"{kind}-requests-{programme}-{year}",
            table=requests_table(rows),
            description=f"Agencies asked for the {kind} review {year} (deadline {cycle.deadline})",
        )
        result["requested"] = len(rows)
        result["queued"] = sum(row["queued"] for row in rows)
        result["delivery"] = deliver_messages(cycle, now)
        return result
    cycle = cycle_ref(programme, year, kind)
    if step in ("remind", "auto"):
        run = queue_round_reminders(cycle, day, now)
        result["reminded"] = run["queued"]
        if run["queued"]:
            logger.info("Rung D%+d: %d reminded", run["rung"], len(run["queued"]))
            result["delivery"] = deliver_messages(cycle, now)
    if step == "evaluate" or (step == "auto" and day > cycle.deadline):
        report = evaluate_round(cycle, now, output_dir or str(OUTPUT_DIR), number, signer)
        create_table_artifact(
            key=f"{kind}-indicators-{programme}-{year}",
            table=report["indicators"],
            description=f"Progress of the targets, {kind} review {year}",
        )
        create_markdown_artifact(
            key=f"{kind}-evaluation-{programme}-{year}",
            markdown=report["markdown"],
            description=f"Evaluation report {year}, revision {report['revision']}",
        )
        logger.info("Evaluation report revision %d: %s", report["revision"], report["files"])
        keys = ("revision", "created", "status", "files", "status_counts")
        result.update({k: report[k] for k in keys})
    return result


@flow(name="midterm-review")
def midterm_review_flow(
    year: int = 2025,
    step: Step = "auto",
    programme: str | None = None,
    opened_on: dt.date | None = None,
    deadline: dt.date | None = None,
    on: dt.date | None = None,
    as_of: dt.datetime | None = None,
    output_dir: str | None = None,
    number: str | None = None,
    signer: str | None = None,
) -> dict:
    """The mid-term review (sơ kết): open, remind, or evaluate (``auto``: what is due).

    ``number`` and ``signer`` with the evaluate step approve the report as it stands.
    """
    return run_review(
        CycleKind.MIDTERM, year, step, programme, opened_on, deadline, on, as_of, output_dir,
        number, signer,
    )  # fmt: skip


@flow(name="final-review")
def final_review_flow(
    year: int = 2030,
    step: Step = "auto",
    programme: str | None = None,
    opened_on: dt.date | None = None,
    deadline: dt.date | None = None,
    on: dt.date | None = None,
    as_of: dt.datetime | None = None,
    output_dir: str | None = None,
    number: str | None = None,
    signer: str | None = None,
) -> dict:
    """The final review (tổng kết): the target-year values compared with the targets."""
    return run_review(
        CycleKind.FINAL, year, step, programme, opened_on, deadline, on, as_of, output_dir,
        number, signer,
    )  # fmt: skip
