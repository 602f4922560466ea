"""The agency's form behind its link: shown from its draft or latest revision, then saved as a
draft or submitted (the yearly report or an evaluation round's)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from config.settings import get_settings
from models.database import session_scope
from models.drafts import save_draft
from models.orm import Channel, CycleStatus
from portal.access import open_request
from portal.confirmation import held_for_confirmation
from portal.dependencies import LINK_PREFIX, Now, ReadSession, app_time
from portal.guard import check_link, recently_checked
from portal.limits import read_form
from portal.pages import EXPIRED_SESSION, LOCKED_NOTICE, csrf_ok, current_fields, form_page
from portal.receipts import to_receipt
from reporting.cycle_kinds import kind_of
from reporting.form_fields import too_long
from reporting.submission_input import IntakeError

EXTENSION_SENT = (
    "Đã gửi đề nghị gia hạn. Cơ quan thường trực sẽ xem xét và trả lời Quý cơ quan qua thư điện tử."
)
MAX_FORM_FIELDS = 1000  # the largest form (34 indicators, 8 task groups) has about 110

router = APIRouter(prefix=LINK_PREFIX)


@router.get("", response_class=HTMLResponse)
def show_form(
    token: str,
    session: ReadSession,
    now: Now,
    extension: str = Query("", alias="gia-han"),
) -> Response:
    """The agency's form, from its draft, its latest revision, or empty."""
    request = open_request(token, session=session, settings=get_settings().web_form, now=now)
    notice = EXTENSION_SENT if extension == "da-gui" else None
    return form_page(request, token, current_fields(request), now=now, notice=notice)


@router.post("", response_class=HTMLResponse)
async def post_form(token: str, http: Request, background: BackgroundTasks) -> Response:
    """Save a draft, or submit: validated in full, stored as a new revision, acknowledged.
    The link is checked, then at most ``max_form_bytes`` read, before anything is parsed.
    The clock is read here, not as a dependency: FastAPI runs a plain-function dependency in
    a worker thread, a hand-over that cost a post about as much as parsing its form."""
    now = app_time(http.app)
    if not recently_checked(token):  # an agency posting again: no thread, no query
        await run_in_threadpool(lambda: check_link(token, now=now))
    form = await read_form(
        http, max_bytes=get_settings().web_form.max_form_bytes, max_fields=MAX_FORM_FIELDS
    )
    return await run_in_threadpool(_handle_post, token, dict(form), http, background, now)


def _handle_post(
    token: str, form: dict, http: Request, background: BackgroundTasks, now: dt.datetime
) -> Response:
    settings = get_settings()
    with session_scope(write=True) as session:
        request = open_request(token, session=session, settings=settings.web_form, now=now)
        report_form = kind_of(request.cycle).form
        fields = report_form.read_fields(form, request)
        if not csrf_ok(http, request, str(form.get("csrf_token", "")), now=now):
            return form_page(  # what was typed stays on the page, with a fresh token
                request, token, fields, now=now, status_code=403, notice=EXPIRED_SESSION
            )
        if request.cycle.status != CycleStatus.OPEN:
            return form_page(
                request, token, fields, now=now, status_code=409, notice=LOCKED_NOTICE
            )
        def marked(errors: dict[str, str], not_done: str) -> Response:
            """The form again, each wrong field marked; nothing was kept."""
            notice = f"Báo cáo chưa được {not_done}: vui lòng sửa các ô được đánh dấu."
            return form_page(
                request, token, fields, now=now, status_code=422, errors=errors, notice=notice
            )

        overlong = too_long(fields)
        if overlong:  # refused with the field named, draft or not; nothing cut, nothing kept
            return marked(overlong, "lưu")
        if form.get("action") == "save":
            save_draft(request, fields, session=session, now=now)
            saved = now.astimezone(dt.timezone(dt.timedelta(hours=7))).strftime("%H:%M")
            return form_page(
                request, token, fields, now=now, notice=f"Đã lưu bản nháp lúc {saved}."
            )
        held = held_for_confirmation(
            request, token, form, fields, session=session, now=now
        ) if report_form.confirms_plausibility else None
        if held is not None:  # a value that looks wrong: shown as read, for the clerk to confirm
            return held
        try:  # IntakeError comes before anything is written (reporting.intake): no savepoint
            submission = report_form.accept_fields(
                request,
                fields,
                session=session,
                settings=settings,
                channel=Channel.WEB_FORM,
                submitted_by=f"{request.agency.email} (web form)",
                now=now,
            )
        except IntakeError as exc:
            return marked(report_form.errors_by_input(exc.errors), "gửi")
        revision, cycle_id = submission.revision, request.cycle_id
        unchanged = getattr(submission, "unchanged", False)
    return to_receipt(http, token, revision, cycle_id, unchanged, background)
