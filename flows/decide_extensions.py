"""The coordinator decides the agencies' requests for more time in the Prefect UI.

A `decide-extensions` run lists the pending requests of the cycle and suspends with them as
its input form (``ExtensionDecisions``, the way ``flows.approval`` asks about the report): one
row per request, each granted (the date asked, or a shorter one), refused, or left for later,
with a note the agency is emailed. The answer is read under a fixed key, so the run resumed
(restarted from the top) applies it to the requests that are still pending; a request decided
meanwhile with `r42 extend`, or replaced by a newer one, is skipped and said so.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.input import RunInput
from prefect.states import Completed, State
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config.settings import get_settings
from documents.markdown_text import markdown_text
from documents.vietnamese import format_date
from flows.approval import decided_by_field
from flows.approval_wait import wait_for_input
from flows.common import CycleRef, artifact_key, cycle_ref, deliver_messages, run_scope
from flows.parameters import PROGRAMME, YEAR
from models.cycles import due_date, get_cycle
from models.database import session_scope
from models.extensions import cycle_extensions
from models.orm import DeadlineExtension, ExtensionStatus
from reporting.extensions import MAX_REASON, decide_extension

FLOW_NAME = "decide-extensions"
INPUT_KEY = "extensions"
DECISION_TEXT = {"grant": "Đồng ý gia hạn", "refuse": "Không chấp thuận", "later": "Để sau"}
DECIDED_TEXT = {
    ExtensionStatus.GRANTED: "đã được đồng ý",
    ExtensionStatus.REFUSED: "đã không được chấp thuận",
    ExtensionStatus.REPLACED: "đã được thay bằng đề nghị mới",
}


class ExtensionAnswer(BaseModel):
    """Quyết định về một đề nghị gia hạn."""

    model_config = ConfigDict(title="Đề nghị gia hạn")

    request: int = Field(title="Số đề nghị", description="Giữ nguyên (mã của đề nghị)")
    agency: str = Field(default="", title="Cơ quan", description="Để biết đề nghị của ai")
    decision: Literal["grant", "refuse", "later"] = Field(
        default="grant",
        title="Quyết định",
        description="grant: đồng ý gia hạn; refuse: không chấp thuận; later: chưa quyết định",
    )
    until: dt.date | None = Field(
        default=None,
        title="Gia hạn đến ngày",
        description="Để trống: ngày cơ quan đề nghị; có thể chọn ngày sớm hơn",
    )
    note: str = Field(
        default="", max_length=MAX_REASON, title="Ghi chú", description="Gửi kèm thư trả lời"
    )


class ExtensionDecisions(RunInput):
    """Quyết định của cán bộ điều phối về các đề nghị gia hạn."""

    decisions: list[ExtensionAnswer] = Field(
        title="Các đề nghị gia hạn", description="Mỗi dòng một đề nghị đang chờ"
    )
    decided_by: str = decided_by_field()


def _row(extension: DeadlineExtension) -> dict:
    request = extension.request
    return {
        "request": extension.id,
        "agency": request.agency.code,
        "name": request.agency.name,
        "asked": extension.requested_until.isoformat(),
        "asked_text": format_date(extension.requested_until),
        "due": format_date(due_date(request)),
        "reason": extension.reason,
        "reported": bool(request.submissions),
    }


@task(cache_policy=NO_CACHE)
def pending_requests(cycle: CycleRef) -> list[dict]:
    """The cycle's pending requests for more time, in registry order."""
    with session_scope() as session:
        found = get_cycle(cycle.programme, cycle.year, session=session)
        return [
            _row(e)
            for e in cycle_extensions(found, session=session, status=ExtensionStatus.PENDING)
        ]


def decision_form(year: int, pending: list[dict]) -> type[ExtensionDecisions]:
    """The form with every pending request shown above it and pre-filled as a row."""
    lines = [
        f"### Đề nghị gia hạn báo cáo năm {year}: {len(pending)} đề nghị đang chờ",
        "",
        "| Số | Cơ quan | Hạn hiện nay | Đề nghị đến | Lý do |",
        "|---|---|---|---|---|",
        *[
            f"| {p['request']} | {markdown_text(p['name'], one_line=True)} | {p['due']} | "
            f"{p['asked_text']} | {markdown_text(p['reason'], one_line=True)} |"
            for p in pending
        ],
        "",
        "Với mỗi đề nghị chọn **grant** (đồng ý; để trống ngày: ngày đề nghị, hoặc chọn ngày "
        "sớm hơn), **refuse** (không chấp thuận) hoặc **later** (quyết định sau). Cơ quan nhận "
        "thư trả lời kèm ghi chú.",
    ]
    return ExtensionDecisions.with_initial_data(
        description="\n".join(lines),
        decisions=[
            {"request": p["request"], "agency": p["agency"], "decision": "grant", "note": ""}
            for p in pending
        ],
    )


def invalid_answer(year: int, given: dict, exc: ValidationError) -> None:
    errors = [
        f"{'.'.join(str(part) for part in error['loc']) or 'answer'}: {error['msg']}"
        for error in exc.errors()
    ]
    get_run_logger().error(
        "The decisions given do not validate (%s); the run waits again", "; ".join(errors)
    )


@task(cache_policy=NO_CACHE)
def apply_decisions(
    cycle: CycleRef, decisions: ExtensionDecisions, now: dt.datetime
) -> list[dict]:
    """Record each decision on a request still pending and queue its email; say what became
    of each answer."""
    outcomes = []
    settings = get_settings()
    for answer in decisions.decisions:
        with session_scope() as session:
            extension = session.get(DeadlineExtension, answer.request)
            name = extension.request.agency.name if extension else answer.agency
            outcome = {"Cơ quan": name, "Quyết định": DECISION_TEXT[answer.decision]}
            if extension is None or extension.request.cycle_id != cycle.id:
                outcome["Kết quả"] = "Không có đề nghị này trong kỳ"
            elif extension.status != ExtensionStatus.PENDING:
                outcome["Kết quả"] = f"Bỏ qua: đề nghị {DECIDED_TEXT[extension.status]}"
            elif answer.decision == "later":
                outcome["Kết quả"] = "Vẫn chờ quyết định"
            else:
                try:
                    with session.begin_nested():
                        decide_extension(
                            extension,
                            grant=answer.decision == "grant",
                            until=answer.until,
                            note=answer.note,
                            session=session,
                            settings=settings,
                            actor=decisions.decided_by,
                            now=now,
                        )
                except ValueError as exc:
                    outcome["Kết quả"] = f"Chưa ghi nhận: {exc}"
                else:
                    outcome["Kết quả"] = (
                        f"Gia hạn đến {format_date(extension.granted_until)}; đã gửi thư"
                        if extension.granted_until
                        else "Không chấp thuận; đã gửi thư"
                    )
            outcome["Ghi chú"] = answer.note
        outcomes.append(outcome)
    return outcomes


@flow(name=FLOW_NAME, persist_result=True)
def decide_extensions_flow(year: int = YEAR, programme: str | None = PROGRAMME) -> State:
    """Show the cycle's pending requests for more time and wait for the coordinator to grant
    or refuse each; the agencies are emailed the decisions.

    The run ends in a state named for what happened ("2 granted, 1 refused"); with nothing
    pending it ends at once ("Nothing to decide")."""
    scope = run_scope(year, programme, None)
    cycle = cycle_ref(scope.programme, year)
    logger = get_run_logger()
    pending = pending_requests(cycle)
    if not pending:
        logger.info("No request for more time is pending in %s", year)
        return Completed(name="Nothing to decide", data={"decided": 0})
    decisions = wait_for_input(
        decision_form(year, pending),
        INPUT_KEY,
        waiting=f"Waiting for the coordinator's decisions on {len(pending)} request(s)",
        on_invalid=lambda given, exc: invalid_answer(year, given, exc),
    )
    outcomes = apply_decisions(cycle, decisions, scope.now)
    create_table_artifact(
        key=artifact_key("extension-decisions", cycle),
        table=outcomes,
        description=f"Quyết định về đề nghị gia hạn năm {year}, người quyết định: "
        f"{decisions.decided_by}",
    )
    deliver_messages(cycle, scope.now)
    granted = sum(o["Kết quả"].startswith("Gia hạn") for o in outcomes)
    refused = sum(o["Kết quả"].startswith("Không chấp thuận") for o in outcomes)
    name = f"{granted} granted, {refused} refused"
    create_markdown_artifact(
        key=artifact_key("extension-decision", cycle),
        markdown=f"### Đề nghị gia hạn năm {year}\n\n{granted} đồng ý, {refused} không chấp "
        f"thuận; người quyết định: {markdown_text(decisions.decided_by, one_line=True)}",
        description=f"{granted} đồng ý, {refused} không chấp thuận",
    )
    logger.info("Decisions from %s: %s", decisions.decided_by, name)
    return Completed(name=name, data={"granted": granted, "refused": refused, "rows": outcomes})
