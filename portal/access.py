"""Who may open a form: the personal link is checked, and every refusal is logged."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.orm import Session

from config.settings import WebFormSettings
from models.cycles import local_today
from models.database import session_scope
from models.orm import AuditEvent, Cycle, Programme, Request
from models.registry_cache import standing_agency
from models.request_graph import load_request
from reporting.links import LinkClaims, LinkError, link_secrets, read_token

logger = logging.getLogger("portal.access")


@dataclass
class LinkRefused(Exception):
    """A link that opens nothing; ``title`` and ``message`` are shown to the agency."""

    status_code: int
    title: str
    message: str
    reason: str  # English, for the log
    request_id: int | None = None
    contact: str | None = None  # the standing agency to turn to, with its email


INVALID = (
    "Đường dẫn không hợp lệ",
    "Đường dẫn này không đúng hoặc đã bị thay đổi. Vui lòng mở lại đường dẫn trong thư "
    "đề nghị báo cáo, hoặc liên hệ cơ quan thường trực.",
)
EXPIRED = (
    "Đường dẫn đã hết hạn",
    "Đường dẫn này đã hết thời hạn sử dụng. Vui lòng liên hệ cơ quan thường trực để được "
    "cấp đường dẫn mới.",
)
REVOKED = (
    "Đường dẫn đã được thay thế",
    "Đường dẫn này đã được thu hồi. Vui lòng dùng đường dẫn trong thư gửi gần nhất.",
)


def open_request(
    token: str, *, session: Session, settings: WebFormSettings, now: dt.datetime
) -> Request:
    """The request behind a valid, current link; LinkRefused otherwise. A link expires at the
    end of its last day in its own programme's timezone, unless the programme's links live
    until the cycle is locked (``link_validity: until_locked``); a locked cycle's form opens
    read-only and refuses posts, whichever the programme sets."""
    claims = claims_of(token, settings)
    request = load_request(claims.request_id, session=session)  # with what every page reads
    if request is None:
        raise LinkRefused(404, *INVALID, f"no request {claims.request_id}")
    if expired(claims, request.cycle.programme, now):
        raise LinkRefused(
            410, *EXPIRED, f"expired on {claims.expires_on}", request.id, contact_of(request.cycle)
        )
    if request.link_version != claims.link_version:
        raise LinkRefused(
            410,
            *REVOKED,
            f"link version {claims.link_version} revoked",
            request.id,
            contact_of(request.cycle),
        )
    return request


LINK_STATE = (  # what open_request's checks read, as one row instead of five ORM objects
    select(Request.link_version, Programme.timezone, Programme.link_validity)
    .join(Cycle, Cycle.id == Request.cycle_id)
    .join(Programme, Programme.id == Cycle.programme_id)
    .where(Request.id == bindparam("request_id"))
)


def check_open(
    token: str, *, session: Session, settings: WebFormSettings, now: dt.datetime
) -> None:
    """open_request's checks without loading the request: LinkRefused unless the link is valid
    and current. Used before a post's body is read (``portal.guard.check_link``), where nothing
    of the request is needed; a link it finds closed is opened by open_request, for the same
    refusal with the standing agency to contact."""
    claims = claims_of(token, settings)
    state = session.execute(LINK_STATE, {"request_id": claims.request_id}).one_or_none()
    if state is None or expired(claims, state, now) or state.link_version != claims.link_version:
        open_request(token, session=session, settings=settings, now=now)


def claims_of(token: str, settings: WebFormSettings) -> LinkClaims:
    """The link's signed claims; LinkRefused (403) for a malformed or tampered token."""
    try:
        return read_token(token, link_secrets(settings), today=None)
    except LinkError as exc:
        raise LinkRefused(403, *INVALID, str(exc)) from None


def expired(claims: LinkClaims, programme: Programme | Row, now: dt.datetime) -> bool:
    """Past the link's last day in the programme's timezone, unless its links live until the
    cycle is locked (then the form opens read-only once it is)."""
    last_day_over = local_today(programme, now) > claims.expires_on
    return last_day_over and programme.link_validity != "until_locked"


def contact_of(cycle: Cycle) -> str:
    """'Sở Nội vụ (tonghop@snv.vinhlong.example)': whom an agency turns to for a new link."""
    agency = standing_agency(cycle)
    return f"{agency.name} ({agency.email})"


_default_contact: dict[str, tuple[float, str | None]] = {}


def default_contact(programme: str) -> str | None:
    """The standing agency of ``programme``'s latest cycle (for a link that names no request),
    looked up at most once a minute: a flood of made-up links costs no query each."""
    cached = _default_contact.get(programme)
    if cached is not None and time.monotonic() - cached[0] < 60:
        return cached[1]
    with session_scope() as session:
        cycle = session.scalar(
            select(Cycle)
            .join(Programme)
            .where(Programme.code == programme)
            .order_by(Cycle.opened_on.desc())
            .limit(1)
        )
        contact = contact_of(cycle) if cycle is not None else None
    _default_contact[programme] = (time.monotonic(), contact)
    return contact


TOO_MANY = (
    "Quá nhiều yêu cầu",
    "Có quá nhiều yêu cầu với đường dẫn không hợp lệ từ máy của quý cơ quan. Vui lòng thử lại "
    "sau ít phút bằng đường dẫn trong thư đề nghị báo cáo.",
)
FLUSH_SECONDS = 5.0
MAX_REASONS = 20


@dataclass
class RefusalWindow:
    """The refusals of one client in one minute: one audit row, its count kept current."""

    first: dict[str, object]
    count: int = 0
    statuses: dict[str, int] = field(default_factory=dict)  # "403" -> refusals
    reasons: dict[str, int] = field(default_factory=dict)  # the first MAX_REASONS kinds
    stored: int = 0  # the count the audit row says
    audit_id: int | None = None
    stored_at: float = 0.0
    busy: bool = False  # a thread is writing its row


class RefusalLog:
    """Refused links, aggregated per client and minute, and the rate limit they feed.

    An outsider requesting made-up links as fast as it can costs one audit row per minute (its
    count brought up to date at most every few seconds and when the minute closes), not a row
    per request: the refusals are all on record without the audit trail taking the database.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.windows: dict[tuple[str, str], RefusalWindow] = {}

    @staticmethod
    def minute(now: dt.datetime) -> str:
        return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")

    def over_limit(self, client: str, *, limit: int, now: dt.datetime) -> bool:
        window = self.windows.get((client, self.minute(now)))
        return window is not None and window.count >= limit

    def record(self, refusal: LinkRefused, *, client: str, path: str, now: dt.datetime) -> None:
        """Count the refusal; write its window's audit row when due (called off the loop)."""
        key = (client, self.minute(now))
        with self.lock:
            window = self.windows.get(key)
            if window is None:
                window = self.windows[key] = RefusalWindow(
                    {"reason": refusal.reason, "path": path[:60], "status": refusal.status_code,
                     "request_id": refusal.request_id, "minute": key[1]}
                )
                logger.warning("refused link from %s on %s: %s", client, path, refusal.reason)
            window.count += 1
            status = str(refusal.status_code)
            window.statuses[status] = window.statuses.get(status, 0) + 1
            if refusal.reason in window.reasons or len(window.reasons) < MAX_REASONS:
                window.reasons[refusal.reason] = window.reasons.get(refusal.reason, 0) + 1
            closed = [k for k in self.windows if k[1] != key[1]]
        for old in closed:
            self.flush(old)
        self.flush(key, every=FLUSH_SECONDS)

    def flush(self, key: tuple[str, str], every: float = 0.0) -> None:
        """Bring the window's audit row up to date (insert it the first time); a closed
        minute's window is dropped once written."""
        with self.lock:
            window = self.windows.get(key)
            if window is None or window.busy:
                return
            if window.audit_id is not None and (
                window.count == window.stored or time.monotonic() - window.stored_at < every
            ):
                return
            window.busy, count, audit_id = True, window.count, window.audit_id
            detail = {
                **window.first,
                "count": count,
                "statuses": dict(window.statuses),
                "reasons": dict(window.reasons),
            }
        try:
            with session_scope(write=True) as session:
                if audit_id is None:
                    event = AuditEvent(actor=key[0], action="link.refused", detail=detail)
                    event.cycle_id = self.cycle_of(window, session)
                    session.add(event)
                    session.flush()
                    audit_id = event.id
                else:
                    session.execute(
                        update(AuditEvent).where(AuditEvent.id == audit_id).values(detail=detail)
                    )
            window.audit_id, window.stored, window.stored_at = audit_id, count, time.monotonic()
        except Exception:  # the count stays in memory; the next refusal writes it
            logger.exception("could not record refused links from %s", key[0])
        finally:
            with self.lock:
                window.busy = False
                closed = key[1] != self.minute(dt.datetime.now(dt.UTC))
                if closed and window.stored == window.count:
                    self.windows.pop(key, None)

    @staticmethod
    def cycle_of(window: RefusalWindow, session: Session) -> int | None:
        request_id = window.first.get("request_id")
        request = session.get(Request, request_id) if isinstance(request_id, int) else None
        return request.cycle_id if request else None

    def flush_all(self) -> None:
        for key in list(self.windows):
            self.flush(key)


refusals = RefusalLog()


def log_refusal(refusal: LinkRefused, *, client: str, path: str) -> None:
    """Keep a trace of every refused link, in the log and the audit trail (per client and
    minute, see :class:`RefusalLog`)."""
    refusals.record(refusal, client=client, path=path, now=dt.datetime.now(dt.UTC))
