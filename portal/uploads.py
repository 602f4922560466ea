"""The Excel form behind the link: download it pre-filled, or upload it filled in."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from config.settings import get_settings
from models.database import session_scope
from models.observations import observations_for
from models.orm import Channel, CycleStatus
from portal import app as web
from portal.access import open_request
from portal.evaluation_excel import build_evaluation_form, import_evaluation_form
from portal.excel_form import build_form, form_filename
from portal.excel_reader import ExcelFormError, import_form
from reporting.evaluation_intake import acknowledge_evaluation, evaluation_years, is_evaluation
from reporting.evaluation_requests import known_series
from reporting.intake import acknowledge
from reporting.messages import link_for
from reporting.requests import XLSX_TYPE


def register_upload_routes(app: FastAPI, prefix: str) -> None:
    @app.get(prefix + "/bieu-mau.xlsx")
    def download_form(token: str) -> Response:
        """The agency's Excel form, pre-filled with its rows and last year's values."""
        settings = get_settings()
        with session_scope() as session:
            request = open_request(
                token, session=session, settings=settings.web_form, now=web.now()
            )
            cycle, link = request.cycle, link_for(request, settings)[0]
            if is_evaluation(request):
                known = known_series(cycle.programme, evaluation_years(cycle), session=session)
                content = build_evaluation_form(request, known=known, link=link)
            else:
                previous = observations_for(cycle.programme, cycle.year - 1, session=session)
                content = build_form(request, previous=previous, link=link)
            name = form_filename(request)  # ASCII, 'so-ket-' for a mid-term round
        disposition = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
        return Response(content, media_type=XLSX_TYPE, headers={"Content-Disposition": disposition})

    @app.post(prefix + "/tai-len", response_class=HTMLResponse)
    async def upload_form(token: str, http: Request, background: BackgroundTasks) -> Response:
        """A filled Excel form: validated like the web form, stored as a new revision."""
        limit = get_settings().web_form.max_upload_bytes
        length = http.headers.get("content-length")
        if length is None or not length.isdigit():
            return web.page(
                "message",
                411,
                title="Thiếu độ dài tệp",
                message="Trình duyệt không gửi độ dài tệp; vui lòng thử lại.",
            )
        if int(length) > limit + 65_536:
            return web.page(
                "message",
                413,
                title="Tệp quá lớn",
                message=f"Tệp tải lên tối đa {limit // 1_000_000} MB.",
            )
        form = await http.form(max_files=1, max_fields=5)
        upload = form.get("file")
        data = await upload.read(limit + 1) if hasattr(upload, "read") else b""
        csrf = str(form.get("csrf_token", ""))
        return await run_in_threadpool(_handle_upload, token, data, csrf, http, background)


def _handle_upload(
    token: str, data: bytes, csrf: str, http: Request, background: BackgroundTasks
) -> Response:
    settings = get_settings()
    moment = web.now()
    with session_scope() as session:
        request = open_request(token, session=session, settings=settings.web_form, now=web.now())
        if not web.csrf_ok(http, csrf):
            return web.page(
                "message",
                403,
                title="Phiên làm việc đã hết hạn",
                message="Vui lòng tải lại trang biểu mẫu rồi tải tệp lên lại.",
            )
        if request.cycle.status != CycleStatus.OPEN:
            return web.form_page(
                request,
                token,
                web.current_fields(request),
                csrf=csrf,
                status_code=409,
                notice=web.LOCKED_NOTICE,
            )
        problems: list[str] = []
        if not data:
            problems = ["Chưa chọn tệp Excel để tải lên."]
        elif len(data) > settings.web_form.max_upload_bytes:
            problems = [
                f"Tệp quá lớn (tối đa {settings.web_form.max_upload_bytes // 1_000_000} MB)."
            ]
        else:
            nested = session.begin_nested()
            try:
                if is_evaluation(request):
                    submission = import_evaluation_form(
                        data,
                        request,
                        session=session,
                        channel=Channel.UPLOAD,
                        submitted_by=f"{request.agency.email} (upload)",
                        submitted_at=moment,
                        max_bytes=settings.web_form.max_upload_bytes,
                    )
                    acknowledge_evaluation(
                        submission, session=session, settings=settings, now=moment
                    )
                else:
                    submission = import_form(
                        data,
                        session=session,
                        channel=Channel.UPLOAD,
                        expected_request=request,
                        submitted_by=f"{request.agency.email} (upload)",
                        submitted_at=moment,
                        max_bytes=settings.web_form.max_upload_bytes,
                    )
                    acknowledge(submission, session=session, settings=settings, now=moment)
            except ExcelFormError as exc:
                nested.rollback()
                problems = exc.errors
        if problems:
            return web.form_page(
                request,
                token,
                web.current_fields(request),
                csrf=csrf,
                status_code=422,
                upload_errors=problems,
                notice="Tệp Excel chưa được nhận: vui lòng sửa các lỗi dưới đây.",
            )
        revision, cycle_id = submission.revision, request.cycle_id
    background.add_task(web.deliver_cycle, cycle_id)
    return RedirectResponse(
        f"/bao-cao/{token}/bien-nhan/{revision}", status_code=303, background=background
    )
