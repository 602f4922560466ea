"""The web form's pages: rendered from templates, with the anti-forgery token of their link."""

from __future__ import annotations

import datetime as dt

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import object_session

from config.settings import get_settings
from documents.templating import render
from models.orm import CycleStatus
from models.orm import Request as AgencyRequest
from portal.access import LinkRefused, default_contact
from reporting.cycle_kinds import kind_of
from reporting.extensions import MAX_REASON, extension_view
from reporting.form_fields import MAX_TEXT
from reporting.links import LinkClaims, LinkError, link_secrets, make_token, read_token
from reporting.messages import common_context

CSRF_DAYS = 7
EXPIRED_SESSION = (
    "Phiên làm việc đã hết hạn nên báo cáo chưa được lưu. Nội dung Quý cơ quan đã nhập vẫn còn "
    "dưới đây: vui lòng kiểm tra rồi bấm gửi lại."
)
LOCKED_NOTICE = "Kỳ báo cáo đã khóa, không nhận thêm báo cáo."
UNAVAILABLE = (
    "Hệ thống đang bận",
    "Hệ thống đang bận nên chưa lưu được báo cáo (dữ liệu chưa được lưu). Vui lòng thử lại "
    "sau ít phút.",
)
def page(template: str, status_code: int = 200, **context: object) -> HTMLResponse:
    return HTMLResponse(render(f"portal/{template}.html.j2", **context), status_code=status_code)


def refused_page(refusal: LinkRefused) -> HTMLResponse:
    """The refusal, naming the standing agency to turn to (with its email) where one is known."""
    contact = refusal.contact or default_contact(get_settings().cycle.programme)
    message = refusal.message + (f" Cơ quan thường trực: {contact}." if contact else "")
    return page("message", refusal.status_code, title=refusal.title, message=message)


def form_page(
    request: AgencyRequest,
    token: str,
    fields: dict[str, str],
    *,
    now: dt.datetime,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    upload_errors: list[str] | None = None,
    confirm: dict[str, object] | None = None,
    warnings: dict[str, str] | None = None,
    extension_form: dict[str, dict[str, str]] | None = None,
) -> HTMLResponse:
    """The agency's form with what was typed in ``fields`` (its anti-forgery token dated
    ``now``); ``confirm``: the values that look
    wrong, for the clerk to confirm (``portal.confirmation``), each also marked in ``warnings``;
    ``extension_form``: the request for more time as typed, with its errors."""
    cycle, form = request.cycle, kind_of(request.cycle).form
    settings = get_settings()
    rows = form.page_rows(request, session=object_session(request))
    if form.offers_extensions:
        rows = {**rows, "extension": extension_view(request)}
    return page(
        form.page_template,
        status_code,
        **common_context(cycle, settings),
        **rows,
        agency_name=request.agency.name,
        fields=fields,
        errors=errors or {},
        warnings=warnings or {},
        confirm=confirm,
        notice=notice,
        csrf=csrf_token(request, now=now),
        upload_errors=upload_errors or [],
        token=token,
        extension_form=extension_form or {"fields": {}, "errors": {}},
        max_reason=MAX_REASON,
        max_text=MAX_TEXT,
        locked=cycle.status != CycleStatus.OPEN,
        revisions=len(request.submissions),
        returned=request.submissions[-1].status_reason
        if request.submissions and request.submissions[-1].status == "returned"
        else None,
    )


def current_fields(request: AgencyRequest) -> dict[str, str]:
    """What the form starts from: the agency's draft, else its latest revision, else what its
    kind's form starts with."""
    return kind_of(request.cycle).form.current_fields(request)


def csrf_key(secret: str) -> str:
    return "csrf:" + secret  # a key of its own: a form token never opens a link, nor the reverse


def csrf_token(request: AgencyRequest, *, now: dt.datetime) -> str:
    """The form's anti-forgery token, bound to its link (request and link version), signed like
    the link and valid CSRF_DAYS: any number of tabs of any number of agencies' links in one
    browser each carry their own, and opening one never invalidates another (no cookie)."""
    expires = now.date() + dt.timedelta(days=CSRF_DAYS)
    secret = get_settings().web_form.link_secret.get_secret_value()
    return make_token(LinkClaims(request.id, request.link_version, expires), csrf_key(secret))


def csrf_ok(http: Request, request: AgencyRequest, submitted: str, *, now: dt.datetime) -> bool:
    """The post carries this link's token, and comes from our own page (a browser says
    cross-site for a post from another site's page)."""
    if http.headers.get("sec-fetch-site") == "cross-site":
        return False
    keys = [csrf_key(secret) for secret in link_secrets(get_settings().web_form)]
    try:
        claims = read_token(submitted, keys, today=now.date())
    except LinkError:
        return False
    return (claims.request_id, claims.link_version) == (request.id, request.link_version)


