"""Who may open a form: the personal link is checked, and every refusal is logged."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from config.settings import WebFormSettings
from models.cycles import local_today
from models.database import session_scope
from models.orm import AuditEvent, Request
from portal.links import LinkError, link_secrets, read_token

logger = logging.getLogger("portal.access")


@dataclass
class LinkRefused(Exception):
    """A link that opens nothing; ``title`` and ``message`` are shown to the agency."""

    status_code: int
    title: str
    message: str
    reason: str  # English, for the log
    request_id: int | None = None


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
    end of its last day in its own programme's timezone."""
    try:
        claims = read_token(token, link_secrets(settings), today=None)
    except LinkError as exc:
        raise LinkRefused(403, *INVALID, str(exc)) from None
    request = session.get(Request, claims.request_id)
    if request is None:
        raise LinkRefused(404, *INVALID, f"no request {claims.request_id}")
    if local_today(request.cycle.programme, now) > claims.expires_on:
        raise LinkRefused(410, *EXPIRED, f"expired on {claims.expires_on}", request.id)
    if request.link_version != claims.link_version:
        raise LinkRefused(410, *REVOKED, f"link version {claims.link_version} revoked", request.id)
    return request


def log_refusal(refusal: LinkRefused, *, client: str, path: str) -> None:
    """Keep a trace of every refused link, in the log and the audit trail."""
    logger.warning("refused link from %s on %s: %s", client, path, refusal.reason)
    with session_scope() as session:
        cycle_id = None
        if refusal.request_id is not None:
            request = session.get(Request, refusal.request_id)
            cycle_id = request.cycle_id if request else None
        session.add(
            AuditEvent(
                actor=client,
                action="link.refused",
                cycle_id=cycle_id,
                detail={"reason": refusal.reason, "path": path[:60], "status": refusal.status_code},
            )
        )
