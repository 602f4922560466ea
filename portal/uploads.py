"""The Excel form behind the link: download it pre-filled, or upload it filled in."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from config.settings import get_settings
from documents.excel_form import form_filename
from models.database import session_scope
from models.orm import Channel, CycleStatus, Submission
from models.orm import Request as AgencyRequest
from portal.access import open_request
from portal.dependencies import LINK_PREFIX, Now, ReadSession
from portal.guard import check_link
from portal.limits import read_form
from portal.pages import LOCKED_NOTICE, csrf_ok, current_fields, form_page
from portal.receipts import to_receipt
from reporting.cycle_kinds import kind_of
from reporting.excel_reader import ExcelFormError
from reporting.messages import link_for
from reporting.requests import XLSX_TYPE

EXPIRED_UPLOAD = (
    "Phiên làm việc đã hết hạn nên tệp chưa được nhận: vui lòng chọn lại tệp và tải lên."
)
UPLOAD_OVERHEAD = 65_536  # the multipart envelope and the CSRF field around the file

router = APIRouter(prefix=LINK_PREFIX)


@router.get("/bieu-mau.xlsx")
def download_form(token: str, session: ReadSession, now: Now) -> Response:
    """The agency's Excel form, pre-filled with its rows and last year's values."""
    settings = get_settings()
    request = open_request(token, session=session, settings=settings.web_form, now=now)
    link = link_for(request, settings)[0]
    content = kind_of(request.cycle).form.build_workbook(request, session=session, link=link)
    name = form_filename(request)  # ASCII, 'so-ket-' for a mid-term round
    disposition = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    return Response(content, media_type=XLSX_TYPE, headers={"Content-Disposition": disposition})


@router.post("/tai-len", response_class=HTMLResponse)
async def upload_form(token: str, http: Request, background: BackgroundTasks, now: Now) -> Response:
    """A filled Excel form: validated like the web form, stored as a new revision. The link
    is checked, then at most the upload limit read, before anything is parsed."""
    limit = get_settings().web_form.max_upload_bytes
    await run_in_threadpool(lambda: check_link(token, now=now))
    form = await read_form(
        http, max_bytes=limit + UPLOAD_OVERHEAD, max_fields=5, max_files=1, max_part_size=limit
    )
    upload = form.get("file")
    data = await upload.read(limit + 1) if hasattr(upload, "read") else b""
    name = (getattr(upload, "filename", "") or "")[:100]
    csrf = str(form.get("csrf_token", ""))
    return await run_in_threadpool(_handle_upload, token, data, name, csrf, http, background, now)


def refused(token: str, status_code: int, problems: list[str], *, now: dt.datetime) -> Response:
    """The form again with the upload's problems (read in its own short transaction)."""
    with session_scope() as session:
        request = open_request(token, session=session, settings=get_settings().web_form, now=now)
        return form_page(
            request,
            token,
            current_fields(request),
            now=now,
            status_code=status_code,
            upload_errors=problems,
            notice=LOCKED_NOTICE
            if status_code == 409
            else "Tệp Excel chưa được nhận: vui lòng sửa các lỗi dưới đây.",
        )


def _handle_upload(
    token: str,
    data: bytes,
    name: str,
    csrf: str,
    http: Request,
    background: BackgroundTasks,
    now: dt.datetime,
) -> Response:
    """Checks that need no file, then the file read (the slow part, holding nothing), then the
    revision stored in a write transaction like every other write path."""
    settings = get_settings()
    limit = settings.web_form.max_upload_bytes
    with session_scope() as session:
        request = open_request(token, session=session, settings=settings.web_form, now=now)
        session_ok = csrf_ok(http, request, csrf, now=now)
        locked, report_form = request.cycle.status != CycleStatus.OPEN, kind_of(request.cycle).form
    if not session_ok:
        return refused(token, 403, [EXPIRED_UPLOAD], now=now)
    if locked:
        return refused(token, 409, [], now=now)
    if not data and not name:
        return refused(token, 422, ["Chưa chọn tệp Excel để tải lên."], now=now)
    if not data:
        return refused(
            token,
            422,
            [f"Tệp «{name}» không có nội dung (0 byte). Vui lòng chọn đúng tệp biểu mẫu đã điền."],
            now=now,
        )
    if len(data) > limit:
        return refused(token, 413, [f"Tệp quá lớn (tối đa {limit // 1_000_000} MB)."], now=now)
    try:
        read = report_form.read_workbook(data, max_bytes=limit)
    except ExcelFormError as exc:
        return refused(token, 422, exc.errors, now=now)
    with session_scope(write=True) as session:
        request = open_request(token, session=session, settings=settings.web_form, now=now)
        try:
            with session.begin_nested():
                submission = store(request, read, session=session, now=now)
        except ExcelFormError as exc:
            problems = exc.errors
        else:
            problems = []
            revision, cycle_id = submission.revision, request.cycle_id
            unchanged = getattr(submission, "unchanged", False)
    if problems:
        return refused(token, 422, problems, now=now)
    return to_receipt(http, token, revision, cycle_id, unchanged, background)


def store(
    request: AgencyRequest, read: object, *, session: Session, now: dt.datetime
) -> Submission:
    """The read workbook recorded as the request's next revision and acknowledged."""
    return kind_of(request.cycle).form.store_workbook(
        read,
        request,
        session=session,
        settings=get_settings(),
        channel=Channel.UPLOAD,
        submitted_by=f"{request.agency.email} (upload)",
        now=now,
    )
