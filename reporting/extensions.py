"""More time: an agency asks on its web form, a coordinator grants or refuses, the agency is
emailed the decision, and from then on its reminders and its late flag follow its own date.

Decided here (README "More time"):
- one pending request per agency and cycle: a new one replaces it until it is decided;
- after a refusal the form takes no new request (the agency turns to the standing agency; a
  coordinator may still grant with ``r42 extend``); after a grant the agency may ask once more
  for a later date, within the programme's ``extension_max_days``;
- a coordinator grants the date asked or a shorter one (never before the cycle's last day);
  ``r42 extend`` without a pending request grants on the coordinator's own initiative, not
  bounded by ``extension_max_days``;
- only the yearly cycle takes requests (the 2025/2030 review rounds keep their deadline).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from sqlalchemy.orm import Session

from config.settings import Settings
from documents.vietnamese import WEEKDAYS, format_date
from models.cycles import due_date, local_today
from models.extensions import (
    last_decision,
    pending_extension,
    record_decision,
    record_extension_request,
)
from models.orm import (
    CycleStatus,
    DeadlineExtension,
    ExtensionStatus,
    MessageKind,
    Request,
)
from reporting.cycle_kinds import kind_of
from reporting.messages import queue_for_agency

MAX_REASON = 1000  # characters of the reason (and of a coordinator's note)
UNTIL_FIELD = "Ngày đề nghị gia hạn"
REASON_FIELD = "Lý do đề nghị gia hạn"


class ExtensionRefused(ValueError):
    """The request cannot be stored: ``errors`` by form field ('until', 'reason', 'form'),
    each in Vietnamese naming the field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def clean_text(text: str) -> str:
    """What a person typed: NFC-normalised (a reason typed with combining accents compares
    and prints as one typed precomposed), trimmed."""
    return unicodedata.normalize("NFC", text or "").strip()


def parse_day(text: str) -> dt.date | None:
    """A date as a browser's date field sends it (2026-12-10) or as typed (10/12/2026)."""
    text = (text or "").strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return dt.datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        return None


def latest_allowed(request: Request) -> dt.date:
    """The latest day an agency may ask for: the cycle's last day + ``extension_max_days``."""
    cycle = request.cycle
    return cycle.deadline + dt.timedelta(days=cycle.programme.extension_max_days)


def why_closed(request: Request) -> str | None:
    """Why the form takes no request from this agency now, in Vietnamese; None when it does."""
    cycle = request.cycle
    if not kind_of(cycle).form.offers_extensions or cycle.programme.extension_max_days <= 0:
        return "Kỳ báo cáo này không nhận đề nghị gia hạn."
    if cycle.status != CycleStatus.OPEN:
        return "Kỳ báo cáo đã khóa, không nhận đề nghị gia hạn."
    decided = last_decision(request)
    if decided is not None and decided.status == ExtensionStatus.REFUSED:
        return (
            f"Đề nghị gia hạn của Quý cơ quan đã không được chấp thuận ngày "
            f"{format_date(local_today(cycle.programme, decided.decided_at))}; nếu cần, vui lòng "
            "liên hệ cơ quan thường trực."
        )
    if due_date(request) >= latest_allowed(request):
        return f"Quý cơ quan đã được gia hạn đến ngày {format_date(due_date(request))}, hạn tối đa."
    return None


def check_request(
    request: Request, until_text: str, reason_text: str, *, today: dt.date
) -> tuple[dt.date, str]:
    """The date and reason typed, validated (ExtensionRefused naming each field)."""
    closed = why_closed(request)
    if closed:
        raise ExtensionRefused({"form": closed})
    errors: dict[str, str] = {}
    until = parse_day(until_text)
    latest, current = latest_allowed(request), due_date(request)
    if not (until_text or "").strip():
        errors["until"] = f"{UNTIL_FIELD}: vui lòng chọn ngày."
    elif until is None:
        errors["until"] = f"{UNTIL_FIELD}: không đúng định dạng ngày (ví dụ 10/12/{today.year})."
    elif until <= current:
        errors["until"] = (
            f"{UNTIL_FIELD}: phải sau hạn hiện nay của Quý cơ quan ({format_date(current)})."
        )
    elif until < today:
        errors["until"] = f"{UNTIL_FIELD}: ngày {format_date(until)} đã qua."
    elif until > latest:
        errors["until"] = (
            f"{UNTIL_FIELD}: chậm nhất ngày {format_date(latest)} "
            f"({request.cycle.programme.extension_max_days} ngày sau hạn gửi báo cáo)."
        )
    reason = clean_text(reason_text)
    if not reason:
        errors["reason"] = f"{REASON_FIELD}: vui lòng nêu lý do."
    elif len(reason) > MAX_REASON:
        errors["reason"] = (
            f"{REASON_FIELD}: tối đa {MAX_REASON} ký tự (hiện có {len(reason)} ký tự)."
        )
    if errors:
        raise ExtensionRefused(errors)
    assert until is not None
    return until, reason


def ask_for_more_time(
    request: Request,
    until_text: str,
    reason_text: str,
    *,
    session: Session,
    requested_by: str,
    now: dt.datetime,
) -> DeadlineExtension:
    """Validate and store the agency's request (replacing its pending one)."""
    until, reason = check_request(
        request, until_text, reason_text, today=local_today(request.cycle.programme, now)
    )
    return record_extension_request(
        request, until, reason, session=session, requested_by=requested_by, now=now
    )


def decide_extension(
    extension: DeadlineExtension,
    *,
    grant: bool,
    until: dt.date | None = None,
    note: str = "",
    session: Session,
    settings: Settings,
    actor: str,
    now: dt.datetime,
) -> list[int]:
    """Grant (the date asked, or ``until`` if shorter) or refuse a pending request, and queue
    the email telling the agency (once per decision). Returns the revisions now on time."""
    note = clean_text(note)
    if len(note) > MAX_REASON:
        raise ValueError(f"note: at most {MAX_REASON} characters")
    deadline = extension.request.cycle.deadline
    if grant:
        until = until or extension.requested_until
        if until > extension.requested_until:
            raise ValueError(
                f"until: {until} is after the date asked ({extension.requested_until}); "
                "grant the date asked or a shorter one"
            )
        if until <= deadline:
            raise ValueError(f"until: {until} is not after the cycle's last day ({deadline})")
    on_time = record_decision(
        extension,
        grant=grant,
        until=until if grant else None,
        note=note,
        session=session,
        actor=actor,
        now=now,
    )
    queue_for_agency(
        MessageKind.EXTENSION,
        extension.request,
        decision_context(extension),
        rung=extension.id,  # one email per decision
        session=session,
        settings=settings,
        now=now,
    )
    return on_time


def grant_on_own_initiative(
    request: Request,
    until: dt.date,
    note: str,
    *,
    session: Session,
    settings: Settings,
    actor: str,
    now: dt.datetime,
) -> DeadlineExtension:
    """A coordinator's grant without a request from the agency (``r42 extend``)."""
    if pending_extension(request) is not None:
        raise ValueError(f"{request.agency.code} has a pending request: decide that one")
    if until <= due_date(request):
        raise ValueError(f"until: {until} is not after the agency's last day {due_date(request)}")
    extension = record_extension_request(
        request,
        until,
        clean_text(note) or "Cơ quan thường trực gia hạn.",
        session=session,
        requested_by=actor,
        now=now,
    )
    decide_extension(
        extension, grant=True, until=until, note=note, session=session, settings=settings,
        actor=actor, now=now,
    )
    return extension


def decision_context(extension: DeadlineExtension) -> dict[str, object]:
    """What the decision email says: the date asked and the reason, what was decided."""
    granted = extension.status == ExtensionStatus.GRANTED
    until = extension.granted_until if granted else extension.request.cycle.deadline
    assert until is not None
    return {
        "granted": granted,
        "requested_until": extension.requested_until,
        "reason": extension.reason,
        "note": extension.note,
        "shorter": granted and until < extension.requested_until,
        "until": until,
        "until_weekday": WEEKDAYS[until.weekday()],
    }


@dataclass
class ExtensionView:
    """What the agency's form shows about more time."""

    open: bool
    closed_reason: str | None
    latest: dt.date
    own_deadline: dt.date
    extended: bool
    pending: DeadlineExtension | None


def extension_view(request: Request) -> ExtensionView:
    closed = why_closed(request)
    return ExtensionView(
        open=closed is None,
        closed_reason=closed,
        latest=latest_allowed(request),
        own_deadline=due_date(request),
        extended=request.extended_until is not None,
        pending=pending_extension(request),
    )


def extension_rows(extensions: list[DeadlineExtension]) -> list[dict[str, str]]:
    """The requests as a coordinator lists them (CLI, artifacts): plain text per column."""
    rows = []
    for e in extensions:
        rows.append(
            {
                "id": str(e.id),
                "agency": e.request.agency.code,
                "name": e.request.agency.name,
                "status": e.status,
                "asked": format_date(e.requested_until),
                "granted": format_date(e.granted_until) if e.granted_until else "",
                "reason": e.reason,
                "note": e.note,
            }
        )
    return rows
