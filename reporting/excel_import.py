"""A returned Excel form recorded: the request it is for (named by the file or by ops), checked
to be that agency's form for that cycle and bound to it, then stored as the request's next
revision, with intake's errors placed at their cells. The file itself is read by
``reporting.excel_reader``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents.form_cells import KIND_TEXT
from documents.xlsx_safety import refuse
from models.cycles import find_cycle
from models.orm import Agency, Channel, Request, Submission
from reporting.excel_reader import RELOAD, ParsedForm, read_form
from reporting.form_binding import check_binding
from reporting.intake import record_submission
from reporting.submission_input import FieldError, IntakeError


def find_request(programme: str, year: int, kind: str, agency: str, *, session: Session) -> Request:
    """The request of ``agency`` in the cycle named, or ExcelFormError."""
    cycle = find_cycle(programme, year, session=session, kind=kind)
    if cycle is None:
        kind_text = KIND_TEXT.get(kind, kind)
        refuse(f"Không có kỳ báo cáo năm {year} ({kind_text}) của chương trình «{programme}».")
    request = session.scalar(
        select(Request).join(Agency).where(Request.cycle_id == cycle.id, Agency.code == agency)
    )
    if request is None:
        refuse(f"Đơn vị «{agency}» không có trong danh sách báo cáo năm {year}.")
    return request


def check_belongs(parsed: ParsedForm, request: Request) -> None:
    """The file must be the form of this agency, for this cycle."""
    cycle = request.cycle
    if parsed.agency != request.agency.code:
        refuse(
            f"Tệp này là biểu mẫu của đơn vị khác (mã «{parsed.agency}»), không "
            f"phải của {request.agency.name}. Vui lòng tải biểu mẫu của đơn vị "
            "mình từ đường dẫn trong thư rồi điền lại."
        )
    if (parsed.programme, parsed.year, parsed.kind) != (
        cycle.programme.code,
        cycle.year,
        cycle.kind,
    ):
        refuse(
            f"Tệp này là biểu mẫu của kỳ báo cáo khác (năm {parsed.year}), "
            f"không dùng cho kỳ báo cáo năm {cycle.year}. {RELOAD}"
        )


def locate(error: FieldError, cells: dict[str, str]) -> str:
    """'Chỉ tiêu!G7: Phải là một số, ví dụ 99,5.' (the field name when no cell holds it)."""
    if error.field == "cycle":
        return error.message
    return f"{cells.get(error.field, error.field)}: {error.message}"


def import_form(
    data: bytes | ParsedForm,
    *,
    session: Session,
    channel: Channel,
    submitted_by: str,
    submitted_at: dt.datetime,
    expected_request: Request | None = None,
    programme: str | None = None,
    year: int | None = None,
    agency: str | None = None,
    max_bytes: int = 5_000_000,
) -> Submission:
    """Read the file (or take it already read, so that the slow part is done before the
    caller's write transaction) and record it as the request's next revision; nothing stored
    on error."""
    parsed = data if isinstance(data, ParsedForm) else read_form(data, max_bytes=max_bytes)
    named = agency is not None  # ops said whose file it is: the file's own word is not needed
    if expected_request is not None:
        check_belongs(parsed, expected_request)
        request = expected_request
    else:  # ops: the file says which cycle and agency, unless told otherwise
        programme, year = programme or parsed.programme, year or parsed.year
        agency = agency or parsed.agency
        request = find_request(programme, year, parsed.kind, agency, session=session)
    check_binding(
        parsed.head,
        parsed.token,
        parsed.names,
        request,
        require_token=expected_request is None and not named,
    )
    rows = [(f"values.{i.code}", i.name) for i in request.agency.indicators]
    rows += [(f"tasks.{g.code}", g.name) for g in request.agency.task_groups]
    missing = [name for key, name in rows if key not in parsed.cells]
    if missing:
        refuse(
            *(
                f"Biểu mẫu thiếu dòng «{n[:60]}» so với danh mục của đơn vị. {RELOAD}"
                for n in missing
            )
        )
    try:
        submission = record_submission(
            request,
            parsed.submission,
            session=session,
            channel=channel,
            submitted_by=submitted_by,
            submitted_at=submitted_at,
            flags_confirmed=False,  # a value that looks wrong is stored with a warning
        )
    except IntakeError as exc:
        refuse(*(locate(e, parsed.cells) for e in exc.errors))
    return submission
