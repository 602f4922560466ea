"""What every cycle email shares: the sender, the standing agency, the agency's link."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from config.mail_settings import MailSettings
from config.settings import Settings
from documents.templating import render_email
from documents.vietnamese import WEEKDAYS
from mail.compose import Attachment, ComposedEmail, Recipient, compose
from mail.queue import QueuedMessage, enqueue
from models.orm import Cycle, CycleKind, MessageKind, Request
from models.registry_cache import registry_facts
from reporting.links import request_link


@dataclass(frozen=True)
class Answering:
    """An email that answers one the agency sent: to its sender, in its thread."""

    address: str  # the sender of the agency's email (checked before queueing)
    thread: list[str]  # its Message-ID, then the ones it answered (In-Reply-To, References)


def link_for(request: Request, settings: Settings) -> tuple[str, dt.date | None]:
    """The agency's personal link for this cycle and its last valid day, counted from the
    link's own issue day: a reissued link is not born dead on the original one's last day.

    A programme with ``link_validity: until_locked`` has no last day (None): its links work
    until the cycle is locked. The token still carries the day count, which
    ``portal.access.open_request`` ignores for such a programme (switched back to ``days``,
    its links end on their day)."""
    issued_on = request.link_issued_on or request.cycle.opened_on
    expires_on = issued_on + dt.timedelta(days=settings.web_form.link_valid_days)
    url = request_link(request.id, request.link_version, expires_on, settings.web_form)
    return url, None if request.cycle.programme.link_validity == "until_locked" else expires_on


def common_context(cycle: Cycle, settings: Settings) -> dict[str, object]:
    programme, facts = cycle.programme, registry_facts(cycle)
    return {
        "year": cycle.year,
        "deadline": cycle.deadline,
        "deadline_weekday": WEEKDAYS[cycle.deadline.weekday()],  # the last day that counts
        "programme_name": programme.name,
        "short_name": programme.short_name,
        "decision": programme.decision,
        "target_year": programme.target_year,
        "cycle_kind": cycle.kind,
        "baseline_year": programme.baseline_year,
        "standing_agency": facts.standing_agency,
        "ministry": facts.ministry,
        "province": facts.province,
        "sender_name": facts.sender.get("sender_name", settings.mail.sender_name),
        "subject_tag": facts.subject_tag,
        # R42_INBOX__HOST set: the emails invite a reply with the filled form
        "reply_by_email": settings.inbox.enabled,
    }


def programme_mail(cycle: Cycle, settings: Settings) -> MailSettings:
    """The mail settings with the From: of the cycle's programme, where its registry names one."""
    own = registry_facts(cycle).sender
    return settings.mail.model_copy(update=own) if own else settings.mail


def compose_for_agency(
    template: str,
    request: Request,
    context: dict[str, object],
    *,
    settings: Settings,
    now: dt.datetime,
    copy_head: bool = False,
    attachments: list[Attachment] | None = None,
    answering: Answering | None = None,
) -> ComposedEmail:
    agency = request.agency
    link, expires = link_for(request, settings)
    cc = [Recipient(f"{agency.head_title} {agency.name}", agency.head_email)] if copy_head else []
    return compose(
        render_email(
            template,
            **{
                **common_context(request.cycle, settings),
                **context,
                "agency_name": agency.name,
                "head_title": agency.head_title,
                "link": link,
                "link_expires": expires,
            },
        ),
        to=[Recipient(agency.name, answering.address if answering else agency.email)],
        attachments=attachments,
        cc=cc,
        settings=programme_mail(request.cycle, settings),
        now=now,
        in_reply_to=answering.thread if answering else None,
    )


class InvalidAddress(ValueError):
    """An agency's address cannot be used: the message is not queued and this is reported."""


@lru_cache(maxsize=8192)  # every email checks its agency's address: once per address
def check_address(address: str) -> None:
    """Refuse what a mail server would refuse or aiosmtplib would silently mangle (a refused
    address raises each time: only those accepted are remembered)."""
    if not address.isascii():
        raise InvalidAddress(f"invalid address {address!r}: not plain ASCII")
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(f"invalid address {address!r}: {exc}") from None


def template_for(kind: MessageKind, cycle: Cycle) -> str:
    """The email template of ``kind``: evaluation rounds (mid-term, final) have their own."""
    return kind.value if cycle.kind == CycleKind.ANNUAL else f"evaluation_{kind.value}"


def queue_for_agency(
    kind: MessageKind,
    request: Request,
    context: dict[str, object],
    *,
    rung: int,
    session: Session,
    settings: Settings,
    now: dt.datetime,
    copy_head: bool = False,
    attachments: list[Attachment] | None = None,
    answering: Answering | None = None,
    recipient_key: str | None = None,
) -> QueuedMessage | None:
    """Compose the agency's email from the template named after ``kind`` and queue it once,
    under (kind, ``recipient_key`` (default: the agency's code), ``rung``)."""
    check_address(answering.address if answering else request.agency.email)
    if copy_head:
        check_address(request.agency.head_email)
    email = compose_for_agency(
        template_for(kind, request.cycle),
        request,
        context,
        settings=settings,
        now=now,
        copy_head=copy_head,
        attachments=attachments,
        answering=answering,
    )
    return enqueue(
        request.cycle,
        kind,
        recipient_key or request.agency.code,
        email,
        session=session,
        agency=request.agency,
        rung=rung,
        now=now,
    )
