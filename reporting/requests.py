"""Open a cycle: one request per active agency, each queued as an email with its own content."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from config.settings import Settings
from documents.indicators import target_text, value_text
from mail.allowed_domains import RecipientNotAllowed
from mail.compose import Attachment
from mail.queue import sent_keys
from models.cycles import ensure_requests
from models.observations import Observed, observations_for
from models.orm import Cycle, MessageKind, Request
from reporting.form_binding import signed_form
from reporting.messages import InvalidAddress, link_for, queue_for_agency

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class RequestRow:
    agency: str
    name: str
    email: str
    indicators: int
    task_groups: int
    queued: bool  # False when an earlier run queued it, or its address is invalid or not allowed
    problem: str = ""  # why it could not be queued


def _request_context(
    request: Request, previous: dict[str, Observed], rows: dict[int, dict] | None = None
) -> dict[str, object]:
    """The template's rows; ``rows`` keeps each indicator's across the agencies of one run."""
    rows = {} if rows is None else rows
    for indicator in request.agency.indicators:
        if indicator.id not in rows:
            last = previous.get(indicator.code)
            rows[indicator.id] = {
                "number": indicator.number,
                "name": indicator.name,
                "unit": indicator.unit,
                "target": target_text(indicator),
                "last_value": value_text(indicator, last.value, last.achieved)
                if last
                else "Chưa có",
            }
    indicators = [rows[indicator.id] for indicator in request.agency.indicators]
    groups = [{"number": g.number, "name": g.name} for g in request.agency.task_groups]
    return {"indicators": indicators, "task_groups": groups}


def excel_form_attachment(
    request: Request, previous: dict[str, Observed], settings: Settings
) -> Attachment:
    """The agency's pre-filled Excel form, named in Vietnamese."""
    content = signed_form(request, previous=previous, link=link_for(request, settings)[0])
    name = f"Biểu mẫu báo cáo năm {request.cycle.year} - {request.agency.name}.xlsx"
    return Attachment(name, content, XLSX_TYPE)


def queue_requests(
    cycle: Cycle,
    *,
    session: Session,
    settings: Settings,
    now: dt.datetime,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> list[RequestRow]:
    """Create missing requests and queue each agency's request email once."""
    requests = ensure_requests(cycle, session=session)
    previous = observations_for(cycle.programme, cycle.year - 1, session=session)
    indicator_rows: dict = {}

    def build(request: Request) -> tuple[dict, list[Attachment]]:
        form = excel_form_attachment(request, previous, settings)
        context = _request_context(request, previous, indicator_rows)
        return {**context, "attachment_name": form.filename}, [form]

    return queue_each(
        requests,
        build,
        session=session,
        settings=settings,
        now=now,
        progress=progress,
    )


def queue_each(
    requests: list[Request],
    build: Callable[[Request], tuple[dict, list[Attachment]]],
    *,
    session: Session,
    settings: Settings,
    now: dt.datetime,
    progress: Callable[[int, int], None],
) -> list[RequestRow]:
    """Queue the request email of every agency not yet sent one (``build`` gives its context
    and attachments); an agency without a valid address, or outside R42_MAIL__ALLOWED_DOMAINS,
    is reported in its row, not skipped."""
    if not requests:
        return []
    already = sent_keys(requests[0].cycle, MessageKind.REQUEST, session=session)
    rows = []
    for done, request in enumerate(requests, start=1):
        agency = request.agency
        queued, problem = (agency.code, 0) not in already, ""
        if queued:
            try:
                context, attachments = build(request)
                queue_for_agency(
                    MessageKind.REQUEST,
                    request,
                    context,
                    rung=0,
                    session=session,
                    settings=settings,
                    now=now,
                    attachments=attachments,
                )
            except (InvalidAddress, RecipientNotAllowed) as exc:
                queued, problem = False, str(exc)
        rows.append(
            RequestRow(
                agency.code,
                agency.name,
                agency.email,
                len(agency.indicators),
                len(agency.task_groups),
                queued,
                problem,
            )
        )
        progress(done, len(requests))
    return rows
