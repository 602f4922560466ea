"""Wait for the coordinator's decision on the draft report of a cycle of any kind (the yearly
report, the mid-term or final review), then send it to the ministry."""

import datetime as dt
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import State

from config.settings import get_settings
from documents.content_markdown import artifact_markdown
from flows.approval import SUBMIT_FLOW_NAME, CoordinatorDecision
from flows.approval_wait import (
    already_waiting,
    outcome_state,
    record_outcome,
    wait_for_decision,
    waiting_elsewhere,
)
from flows.common import (
    CycleRef,
    artifact_key,
    cycle_ref,
    deliver_messages,
    run_scope,
)
from flows.parameters import KIND, PROGRAMME, Kind, asked
from mail.queue import find_message
from models.cycles import get_cycle
from models.database import session_scope
from models.orm import DeliveryStatus, MessageKind, Report
from models.reports import latest_report, mark_submitted, record_decision
from reporting.cycle_kinds import kind_of
from reporting.report_files import cycle_folder, file_stem
from reporting.report_pdf import describe_pdf
from reporting.submission import finalise_and_queue


@task(cache_policy=NO_CACHE)
def report_state(cycle: CycleRef) -> dict:
    """The latest report revision of the cycle, its status, counts and where its files are."""
    with session_scope() as session:
        found = get_cycle(cycle.programme, cycle.year, session=session, kind=cycle.kind)
        report = latest_report(found, session=session)
        if report is None:
            raise LookupError(f"cycle {cycle.year} has no draft report: run consolidate first")
        counts = ("requested", "on_time", "late", "missing")
        return {
            "id": report.id,
            "programme": cycle.programme,
            "year": cycle.year,
            "kind": cycle.kind,
            "decision_key": artifact_key("decision", cycle),  # 'decision-vinh-long-r42-2026'
            "indicators_key": artifact_key("indicators", cycle),  # the consolidation's table
            "title": kind_of(found).report_name(cycle.year),  # "báo cáo sơ kết năm 2025"
            "revision": report.revision,
            "status": report.status,
            "number": report.number,
            "reason": report.decision_reason,
            "data": {key: report.data.get(key, 0) for key in counts},
            "folder": str(cycle_folder(get_settings().cycle.reports_dir, found)),
            "draft_stem": file_stem(
                kind_of(found).file_prefix, cycle.year, report, draft=True
            ),
        }


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
            + artifact_markdown(files.markdown, files.charts.overview, where),
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
    year: int | None = asked("Năm", "Năm của kỳ báo cáo; để trống: năm nay", None),
    programme: str | None = PROGRAMME,
    as_of: dt.datetime | None = asked(
        "Thời điểm", "Chỉ dùng khi chạy thử: coi như đang ở thời điểm này; để trống: bây giờ", None
    ),
    kind: Kind = KIND,
) -> State:
    """Ask the coordinator to approve the latest draft of the cycle of ``kind`` (the yearly
    report or a review's); on approval email it to the ministry.

    The run ends in a state named for what happened: "Approved 215/BC-UBND", "Sent back: ...",
    "Already waiting in <run>" (another run of the cycle waits for the decision)."""
    scope = run_scope(year, programme, as_of)
    programme, year, now = scope.programme, scope.year, scope.now
    logger = get_run_logger()
    cycle = cycle_ref(programme, year, kind)
    report = report_state(cycle)
    if report["status"] == "submitted":
        logger.info("Report revision %d was already submitted: nothing to do", report["revision"])
        return outcome_state(f"Already submitted {report['number']}", report)
    if report["status"] == "returned":
        logger.warning(
            "Report revision %d was sent back (%s): consolidate again after the "
            "corrections, then re-run",
            report["revision"],
            report["reason"],
        )
        return outcome_state(f"Sent back earlier: {report['reason']}", report)
    if report["status"] == "draft":
        other = waiting_elsewhere(cycle)
        if other is not None:
            return already_waiting(other, report)
        decision = wait_for_decision(report, Path(report["folder"]))
        status = store_decision(report["id"], decision, now)
        record_outcome(report, decision)
        if status == "returned":
            return outcome_state(decision.summary(), report_state(cycle))
    final = queue_report(report["id"], now)
    create_markdown_artifact(
        key=artifact_key("final-report", cycle),
        markdown=final["markdown"],
        description=f"Báo cáo số {final['number']} đã gửi Bộ",
    )
    logger.info("Report %s written to %s", final["number"], ", ".join(final["files"].values()))
    (logger.info if final["pdf"]["signed"] else logger.warning)("PDF %s", final["pdf"]["status"])
    deliver_messages(cycle, now)
    record_submitted(report["id"], now)
    return outcome_state(f"Approved {final['number']}", report_state(cycle))
