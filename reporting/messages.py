"""What every cycle email shares: the sender, the standing agency, the agency's link."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import Session, object_session

from config.mail_settings import MailSettings
from config.settings import Settings
from documents.templating import render_email
from documents.vietnamese import WEEKDAYS
from mail.compose import Attachment, ComposedEmail, Recipient, compose
from mail.queue import QueuedMessage, enqueue
from models.orm import Agency, Cycle, CycleKind, MessageKind, RegistryVersion, Request
from reporting.links import request_link


@dataclass(frozen=True)
class Answering:
    """An email that answers one the agency sent: to its sender, in its thread."""

    address: str  # the sender of the agency's email (checked before queueing)
    thread: list[str]  # its Message-ID, then the ones it answered (In-Reply-To, References)


def standing_agency(cycle: Cycle) -> Agency:
    """The registry version's standing agency: one row, not every agency of the version (a
    portal request would otherwise load 4,500 agencies at national scale for one name)."""
    version = cycle.registry_version
    if "agencies" not in inspect(version).unloaded:  # already loaded (opening a cycle)
        return next(a for a in version.agencies if a.is_standing_agency)
    query = select(Agency).where(
        Agency.registry_version_id == version.id, Agency.is_standing_agency.is_(True)
    )
    return object_session(version).scalars(query).one()


@dataclass(frozen=True)
class RegistryFacts:
    """What the emails and pages of a cycle take from its registry version: its standing
    agency's name and a few fields of its document (the whole registry, parsed from JSON on
    every load)."""

    standing_agency: str
    ministry: str
    province: str
    subject_tag: str | None
    sender: dict[str, str]  # the programme's own From: (sender_name, sender_address), if any


_FACTS: dict[tuple[int, str], RegistryFacts] = {}  # (registry version, content hash) -> facts
_VERSION_HASH = select(RegistryVersion.content_hash).where(
    RegistryVersion.id == bindparam("version")
)


def registry_facts(cycle: Cycle) -> RegistryFacts:
    """The cycle's registry facts, kept per registry version and content (a version edited in
    place gets a new hash): a portal request reads the version's hash, not its document."""
    if "registry_version" in inspect(cycle).unloaded:
        session, version_id = object_session(cycle), cycle.registry_version_id
        # Read once per transaction (an email asks twice: for its words and for its From:).
        transaction, hashes = session.info.get("registry_version_hashes", (None, {}))
        if transaction is not session.get_transaction():
            hashes = {}
            session.info["registry_version_hashes"] = (session.get_transaction(), hashes)
        if version_id not in hashes:
            hashes[version_id] = session.scalar(_VERSION_HASH, {"version": version_id})
        key = (version_id, hashes[version_id])
    else:
        key = (cycle.registry_version.id, cycle.registry_version.content_hash)
    facts = _FACTS.get(key)
    if facts is None:
        version = cycle.registry_version
        document = version.document
        facts = RegistryFacts(
            standing_agency=standing_agency(cycle).name,
            ministry=document["ministry"]["name"],
            province=document["province"],
            subject_tag=document.get("subject_tag"),
            sender={k: document[k] for k in ("sender_name", "sender_address") if document.get(k)},
        )
        _FACTS[(version.id, version.content_hash)] = facts
    return facts


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
