"""Wait for the coordinator's decision on the draft report, then send it to the ministry."""

import datetime as dt

from prefect import flow, get_run_logger, pause_flow_run, suspend_flow_run, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context

from config.settings import get_settings
from documents.report import artifact_markdown
from flows.approval import SUBMIT_FLOW_NAME, CoordinatorDecision
from flows.common import (
    CycleRef,
    cycle_ref,
    deliver_messages,
    run_scope,
)
from models.cycles import get_cycle
from models.database import session_scope
from models.messages import find_message
from models.orm import DeliveryStatus, MessageKind, Report
from models.reports import latest_report, mark_submitted, record_decision
from reporting.report_pdf import describe_pdf
from reporting.submission import finalise_and_queue


@task(cache_policy=NO_CACHE)
def report_state(cycle: CycleRef) -> dict:
    """The latest report revision of the cycle and its status."""
    with session_scope() as session:
        report = latest_report(
            get_cycle(cycle.programme, cycle.year, session=session), session=session
        )
        if report is None:
            raise LookupError(f"cycle {cycle.year} has no draft report: run consolidate first")
        return {
            "id": report.id,
            "revision": report.revision,
            "status": report.status,
            "reason": report.decision_reason,
        }


def wait_for_decision(report: dict) -> CoordinatorDecision:
    """Suspend (deployments: no process is held) or, in a local run, pause for the decision."""
    key = f"report-{report['id']}"
    timeout = get_settings().cycle.approval_timeout_days * 86400
    if get_run_context().flow_run.deployment_id is not None:
        return suspend_flow_run(wait_for_input=CoordinatorDecision, key=key, timeout=timeout)
    return pause_flow_run(wait_for_input=CoordinatorDecision, key=key, timeout=timeout)


@task(cache_policy=NO_CACHE)
def store_decision(report_id: int, decision: CoordinatorDecision, now: dt.datetime) -> str:
    """Record the approval or send-back on the report revision."""
    with session_scope() as session:
        report = session.get_one(Report, report_id)
        record_decision(
            report,
            session=session,
            approve=decision.decision == "approve",
            actor=decision.decided_by,
            now=now,
            number=decision.report_number,
            signer=decision.signer,
            reason=decision.reason,
        )
        return report.status


@task(cache_policy=NO_CACHE)
def queue_report(report_id: int, now: dt.datetime) -> dict:
    """Render the final report (DOCX, XLSX annex, HTML) and queue it to the ministry (once)."""
    with session_scope() as session:
        report = session.get_one(Report, report_id)
        files, paths = finalise_and_queue(report, session=session, settings=get_settings(), now=now)
        where = {ext.upper(): str(path) for ext, path in paths.items()}
        pdf = describe_pdf(paths["pdf"])  # the signed PDF checked again as the ministry will
        return {
            "number": report.number,
            "files": where,
            "pdf": pdf,
            "markdown": f"**Tệp PDF:** {pdf['label']}\n\n"
            + artifact_markdown(report.markdown, files.charts, where),
        }


@task(cache_policy=NO_CACHE)
def record_submitted(report_id: int, now: dt.datetime) -> None:
    """Mark the report submitted once its email to the ministry has been sent."""
    with session_scope() as session:
        report = session.get_one(Report, report_id)
        message = find_message(
            report.cycle, MessageKind.REPORT, "ministry", report.revision, session=session
        )
        if message is None or message.status != DeliveryStatus.SENT:
            status = message.status if message else "not queued"
            reply = message.last_reply if message else ""
            raise RuntimeError(f"the report to the ministry is {status} ({reply}); re-run later")
        mark_submitted(report, session=session, now=now)


@flow(name=SUBMIT_FLOW_NAME, persist_result=True)
def submit_report_flow(
    year: int | None = None, programme: str | None = None, as_of: dt.datetime | None = None
) -> dict:
    """Ask the coordinator to approve the latest draft; on approval email it to the ministry."""
    scope = run_scope(year, programme, as_of)
    programme, year, now = scope.programme, scope.year, scope.now
    logger = get_run_logger()
    cycle = cycle_ref(programme, year)
    report = report_state(cycle)
    if report["status"] == "submitted":
        logger.info("Report revision %d was already submitted: nothing to do", report["revision"])
        return report
    if report["status"] == "returned":
        logger.warning(
            "Report revision %d was sent back (%s): consolidate again after the "
            "corrections, then re-run",
            report["revision"],
            report["reason"],
        )
        return report
    if report["status"] == "draft":
        logger.info(
            "Waiting for the coordinator's decision on report revision %d", report["revision"]
        )
        decision = wait_for_decision(report)
        if store_decision(report["id"], decision, now) == "returned":
            logger.info("Sent back: %s", decision.reason)
            return report_state(cycle)
    final = queue_report(report["id"], now)
    create_markdown_artifact(
        key=f"final-report-{programme}-{year}",
        markdown=final["markdown"],
        description=f"Report {final['number']} as sent to the ministry",
    )
    logger.info("Report %s written to %s", final["number"], ", ".join(final["files"].values()))
    (logger.info if final["pdf"]["signed"] else logger.warning)("PDF %s", final["pdf"]["status"])
    deliver_messages(cycle, now)
    record_submitted(report["id"], now)
    return report_state(cycle)
