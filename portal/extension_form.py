"""More time, asked on the agency's own page: a date and a reason, validated, stored as the
agency's one pending request, then shown on its form until a coordinator decides."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from config.settings import get_settings
from models.database import session_scope
from portal.access import open_request
from portal.dependencies import LINK_PREFIX, Now
from portal.guard import check_link
from portal.limits import read_form
from portal.pages import EXPIRED_SESSION, csrf_ok, current_fields, form_page, page
from reporting.cycle_kinds import kind_of
from reporting.extensions import ExtensionRefused, ask_for_more_time

MAX_FIELDS = 10  # csrf_token, until, reason

router = APIRouter(prefix=LINK_PREFIX)


@router.post("/gia-han")
async def ask_for_time(token: str, http: Request, now: Now) -> Response:
    """Store the agency's request for more time (Post/Redirect/Get to its form), or show the
    form again with what was typed and each field's error."""
    await run_in_threadpool(lambda: check_link(token, now=now))
    form = await read_form(
        http, max_bytes=get_settings().web_form.max_form_bytes, max_fields=MAX_FIELDS
    )
    return await run_in_threadpool(_handle, token, dict(form), http, now)


def _handle(token: str, form: dict, http: Request, moment: dt.datetime) -> Response:
    settings = get_settings()
    typed = {"until": str(form.get("until", "")), "reason": str(form.get("reason", ""))}
    with session_scope(write=True) as session:
        request = open_request(token, session=session, settings=settings.web_form, now=moment)
        if not kind_of(request.cycle).form.offers_extensions:
            return page(
                "message", 409, title="Không nhận đề nghị gia hạn",
                message="Kỳ báo cáo này không nhận đề nghị gia hạn.",
            )
        fields = current_fields(request)
        if not csrf_ok(http, request, str(form.get("csrf_token", "")), now=moment):
            return form_page(
                request, token, fields, now=moment, status_code=403, notice=EXPIRED_SESSION,
                extension_form={"fields": typed, "errors": {}},
            )
        try:
            nested = session.begin_nested()
            ask_for_more_time(
                request,
                typed["until"],
                typed["reason"],
                session=session,
                requested_by=f"{request.agency.email} (web form)",
                now=moment,
            )
        except ExtensionRefused as exc:
            nested.rollback()
            return form_page(
                request,
                token,
                fields,
                now=moment,
                status_code=409 if "form" in exc.errors else 422,
                notice="Đề nghị gia hạn chưa được gửi: "
                + (exc.errors.get("form") or "vui lòng sửa các ô được đánh dấu."),
                extension_form={"fields": typed, "errors": exc.errors},
            )
    return RedirectResponse(f"/bao-cao/{token}?gia-han=da-gui#gia-han", status_code=303)
