"""The agencies' web form: one FastAPI app, Vietnamese pages, reached only by personal links."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import BackgroundTasks, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from config.settings import get_settings
from documents.templating import TEMPLATES_DIR
from models.database import session_scope
from models.drafts import save_draft
from models.orm import Channel, CycleStatus
from portal import evaluation_form, form_fields
from portal.access import LinkRefused, RefusalLog, open_request
from portal.confirmation import held_for_confirmation
from portal.extension_form import register_extension_routes
from portal.guard import (
    LinkGuard,
    SecurityHeaders,
    check_link,
    hide_tokens_in_access_log,
    refuse,
    safe_path,
)
from portal.limits import BodyTooLarge, FormRefused, read_form, size_text
from portal.pages import (
    EXPIRED_SESSION,
    LOCKED_NOTICE,
    UNAVAILABLE,
    csrf_ok,
    current_fields,
    form_page,
    now,
    page,
)
from portal.receipts import ReceiptSender, to_receipt
from reporting.evaluation_intake import accept_evaluation, is_evaluation
from reporting.intake import IntakeError, accept_submission
from reporting.messages import common_context
from reporting.revision_summary import receipt_context

logger = logging.getLogger("portal")
PREFIX = "/bao-cao/{token}"
FORM_SCRIPT = (TEMPLATES_DIR / "portal" / "form.js").read_bytes()
EXTENSION_SENT = (
    "Đã gửi đề nghị gia hạn. Cơ quan thường trực sẽ xem xét và trả lời Quý cơ quan qua thư điện tử."
)
MAX_FORM_FIELDS = 1000  # the largest form (34 indicators, 8 task groups) has about 110
def create_app() -> FastAPI:
    get_settings()  # unsafe settings (a placeholder link secret...) refuse to start the form
    refusals = RefusalLog()
    receipts = ReceiptSender(now)
    hide_tokens_in_access_log()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(refusals.flush_all)  # the last counts of refused links
        await run_in_threadpool(receipts.stop)  # what is still due goes now, or stays pending

    app = FastAPI(title="Báo cáo Nghị quyết 42", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.refusals = refusals
    app.state.receipts = receipts

    app.add_middleware(LinkGuard)
    app.add_middleware(SecurityHeaders)  # the outer one: refusals get the headers too

    @app.exception_handler(LinkRefused)
    async def on_refused(http: Request, refusal: LinkRefused) -> Response:
        return await refuse(http, refusal)

    @app.exception_handler(BodyTooLarge)
    async def on_too_large(http: Request, exc: BodyTooLarge) -> HTMLResponse:
        upload = http.url.path.endswith("/tai-len")
        return page(
            "message",
            413,
            title="Tệp quá lớn" if upload else "Dữ liệu gửi lên quá lớn",
            message=(f"Tệp tải lên tối đa {size_text(get_settings().web_form.max_upload_bytes)}."
                     if upload else
                     f"Dữ liệu gửi lên vượt quá {size_text(exc.limit)}. Dữ liệu chưa được lưu; "
                     "vui lòng rút gọn nội dung rồi gửi lại."),
        )

    @app.exception_handler(FormRefused)
    async def on_form_refused(http: Request, exc: FormRefused) -> HTMLResponse:
        logger.warning("refused form on %s: %s", safe_path(http.url.path), exc.reason)
        return page(
            "message",
            exc.status_code,
            title="Dữ liệu gửi lên quá lớn" if exc.status_code == 413 else "Yêu cầu không hợp lệ",
            message="Dữ liệu gửi lên không đúng biểu mẫu hoặc quá lớn; dữ liệu chưa được lưu. "
            "Vui lòng tải lại trang biểu mẫu.",
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(http: Request, exc: StarletteHTTPException) -> HTMLResponse:
        title = {
            404: "Không tìm thấy trang",
            405: "Thao tác không được hỗ trợ",
            413: "Tệp quá lớn",
        }.get(exc.status_code, "Yêu cầu không hợp lệ")
        return page(
            "message",
            exc.status_code,
            title=title,
            message="Vui lòng mở lại đường dẫn trong thư đề nghị báo cáo.",
        )

    @app.exception_handler(RequestValidationError)
    async def on_invalid(http: Request, exc: RequestValidationError) -> HTMLResponse:
        return page(
            "message",
            422,
            title="Yêu cầu không hợp lệ",
            message="Dữ liệu gửi lên không đúng biểu mẫu. Vui lòng tải lại trang.",
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(SATimeoutError)
    async def on_unavailable(http: Request, exc: Exception) -> HTMLResponse:
        """The database is busy past its timeout, or down: nothing was stored (the transaction
        rolled back), and the agency is asked to come back."""
        logger.warning("database unavailable on %s: %s", safe_path(http.url.path), exc)
        response = page("message", 503, title=UNAVAILABLE[0], message=UNAVAILABLE[1])
        response.headers["Retry-After"] = "60"
        return response

    @app.exception_handler(Exception)
    async def on_error(http: Request, exc: Exception) -> HTMLResponse:
        logger.exception("unexpected error on %s", safe_path(http.url.path))
        return page(
            "message",
            500,
            title="Đã có lỗi xảy ra",
            message="Hệ thống gặp sự cố. Dữ liệu chưa được lưu; vui lòng thử lại sau.",
        )

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/tai-nguyen/bieu-mau.js", include_in_schema=False)
    def form_script() -> Response:
        """The form's character counters (a file: the page's CSP allows no inline script)."""
        return Response(FORM_SCRIPT, media_type="text/javascript; charset=utf-8")

    @app.get(PREFIX, response_class=HTMLResponse)
    def show_form(
        token: str, http: Request, extension: str = Query("", alias="gia-han")
    ) -> Response:
        """The agency's form, from its draft, its latest revision, or empty."""
        with session_scope() as session:
            request = open_request(
                token, session=session, settings=get_settings().web_form, now=now()
            )
            notice = EXTENSION_SENT if extension == "da-gui" else None
            return form_page(request, token, current_fields(request), notice=notice)

    @app.post(PREFIX, response_class=HTMLResponse)
    async def post_form(token: str, http: Request, background: BackgroundTasks) -> Response:
        """Save a draft, or submit: validated in full, stored as a new revision, acknowledged.
        The link is checked, then at most ``max_form_bytes`` read, before anything is parsed."""
        await run_in_threadpool(check_link, token)
        form = await read_form(
            http, max_bytes=get_settings().web_form.max_form_bytes, max_fields=MAX_FORM_FIELDS
        )
        return await run_in_threadpool(_handle_post, token, dict(form), http, background)

    @app.get(PREFIX + "/bien-nhan/{revision}", response_class=HTMLResponse)
    def receipt(
        token: str, revision: int, unchanged: bool = Query(False, alias="khong-doi")
    ) -> Response:
        with session_scope() as session:
            request = open_request(
                token, session=session, settings=get_settings().web_form, now=now()
            )
            match = [s for s in request.submissions if s.revision == revision]
            if not match:
                raise StarletteHTTPException(404)
            return page(
                "evaluation_receipt" if is_evaluation(request) else "receipt",
                **common_context(request.cycle, get_settings()),
                agency_name=request.agency.name,
                token=token,
                unchanged=unchanged,
                **receipt_context(match[0]),
            )

    from portal.uploads import register_upload_routes

    register_upload_routes(app, PREFIX)
    register_extension_routes(app, PREFIX)
    return app


def _handle_post(token: str, form: dict, http: Request, background: BackgroundTasks) -> Response:
    settings = get_settings()
    moment = now()
    with session_scope(write=True) as session:
        request = open_request(token, session=session, settings=settings.web_form, now=moment)
        fields_of = evaluation_form if is_evaluation(request) else form_fields
        fields = fields_of.read_fields(form, request)
        if not csrf_ok(http, request, str(form.get("csrf_token", ""))):
            return form_page(  # what was typed stays on the page, with a fresh token
                request, token, fields, status_code=403, notice=EXPIRED_SESSION
            )
        if request.cycle.status != CycleStatus.OPEN:
            return form_page(request, token, fields, status_code=409, notice=LOCKED_NOTICE)
        too_long = form_fields.too_long(fields)
        if too_long:  # refused with the field named, draft or not; nothing cut, nothing kept
            return form_page(
                request,
                token,
                fields,
                status_code=422,
                errors=too_long,
                notice="Báo cáo chưa được lưu: vui lòng sửa các ô được đánh dấu.",
            )
        if form.get("action") == "save":
            save_draft(request, fields, session=session, now=moment)
            saved = moment.astimezone(dt.timezone(dt.timedelta(hours=7))).strftime("%H:%M")
            return form_page(
                request, token, fields, notice=f"Đã lưu bản nháp lúc {saved}."
            )
        held = None if is_evaluation(request) else held_for_confirmation(
            request, token, form, fields, session=session
        )
        if held is not None:  # a value that looks wrong: shown as read, for the clerk to confirm
            return held
        try:
            nested = session.begin_nested()
            accept, data = (
                (accept_evaluation, evaluation_form.to_input(fields, request))
                if is_evaluation(request)
                else (accept_submission, form_fields.to_submission(fields, request))
            )
            submission = accept(
                request,
                data,
                session=session,
                settings=settings,
                channel=Channel.WEB_FORM,
                submitted_by=f"{request.agency.email} (web form)",
                now=moment,
            )
        except IntakeError as exc:
            nested.rollback()
            return form_page(
                request,
                token,
                fields,
                status_code=422,
                errors=fields_of.errors_by_input(exc.errors),
                notice="Báo cáo chưa được gửi: vui lòng sửa các ô được đánh dấu.",
            )
        revision, cycle_id = submission.revision, request.cycle_id
        unchanged = getattr(submission, "unchanged", False)
    return to_receipt(http, token, revision, cycle_id, unchanged, background)
