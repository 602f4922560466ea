"""The agency's Excel form: one protected, printable workbook per request, pre-filled."""

from __future__ import annotations

import io
import math
import re

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from documents.indicators import target_text, value_text
from documents.vietnamese import format_date
from models.observations import Observed
from models.orm import Indicator, Request, TaskStatus
from reporting.consolidation import TASK_STATUS_TEXT

FORM_VERSION = "1"
GUIDE, INDICATORS, TASKS, PROPOSALS, META = "Hướng dẫn", "Chỉ tiêu", "Nhiệm vụ", "Đề xuất", "_meta"
HEADER_ROW, FIRST_ROW = 3, 4  # title rows above the header; one row per item below it
VALUE_COL, NOTE_COL, LABEL_COL = "G", "H", "C"
TASK_COLS = {"status": "D", "results": "E", "difficulties": "F", "proposals": "G"}
PROPOSALS_CELL = "A4"
META_KEYS = ("programme", "year", "kind", "agency", "version")
META_ROWS = 7  # first row of the (kind, code, label) list in _meta
STATUS_LABELS = {s.value: TASK_STATUS_TEXT[s] for s in TaskStatus}
YES_NO = ("Có", "Không")
KIND_TEXT = {"annual": "báo cáo hằng năm", "midterm": "sơ kết", "final": "tổng kết"}
KIND_SLUG = {"annual": "", "midterm": "so-ket-", "final": "tong-ket-"}
NUMBER_HINT = {
    "percent": "Tỷ lệ %, từ 0 đến 100, không ghi dấu %. Ví dụ: 99,5",
    "count": "Số nguyên không âm. Ví dụ: 1.250",
    "rate": "Số không âm, dấu phẩy cho phần thập phân. Ví dụ: 32,5",
}
INDICATOR_HEADERS = (
    "Mã|STT|Chỉ tiêu|Đơn vị tính|Mục tiêu đến năm {target}|Năm {last} (toàn tỉnh)"
    "|Số liệu năm {year}|Ghi chú"
)
TASK_HEADERS = (
    "Mã|STT|Nhóm nhiệm vụ, giải pháp|Tình trạng thực hiện|Kết quả đã thực hiện"
    "|Khó khăn, vướng mắc|Kiến nghị, đề xuất"
)
UNSAFE_START = ("=", "+", "-", "@", "\t", "\r")

FONT = Font(name="Times New Roman", size=12)
BOLD = Font(name="Times New Roman", size=12, bold=True)
TITLE = Font(name="Times New Roman", size=14, bold=True)
LINK = Font(name="Times New Roman", size=12, color="0563C1", underline="single")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
NO_WRAP = Alignment(vertical="center")
CENTER = Alignment(wrap_text=True, vertical="center", horizontal="center")
UNLOCKED = Protection(locked=False)


def put(ws: Worksheet, ref: str, value: object, font: Font = FONT, *, box: bool = False) -> Cell:
    """Write a value; text that a spreadsheet could read as a formula stays plain text."""
    cell = ws[ref]
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.value = value
    if isinstance(value, str) and value.startswith(UNSAFE_START):
        cell.data_type = "s"
        cell.quotePrefix = True
    cell.font, cell.alignment = font, WRAP
    if box:
        cell.border = BOX
    return cell


def input_cell(ws: Worksheet, ref: str, *, text: bool = False) -> Cell:
    """An empty, unlocked, highlighted cell for the agency to fill."""
    cell = ws[ref]
    cell.font, cell.alignment, cell.border = FONT, WRAP, BOX
    cell.fill, cell.protection = INPUT_FILL, UNLOCKED
    if text:
        cell.number_format = "@"  # what is typed stays as typed: "99,5", "4.257.581"
    return cell


def lines(text: str, width: float) -> int:
    """How many printed lines ``text`` takes in a wrapped column ``width`` characters wide."""
    per_line = max(int(width * 1.05), 1)
    return sum(max(math.ceil(len(part) / per_line), 1) for part in text.split("\n"))


def fit_row(ws: Worksheet, row: int, texts: dict[str, str], minimum: int = 1) -> None:
    """Give a row the height its wrapped texts need (Excel does not measure on open)."""
    needed = max([minimum] + [lines(t, ws.column_dimensions[c].width) for c, t in texts.items()])
    ws.row_dimensions[row].height = needed * 16 + 4


def drop_down(choices: tuple[str, ...], title: str, prompt: str) -> DataValidation:
    """A list validation that refuses anything not in ``choices``."""
    return DataValidation(
        type="list",
        formula1='"' + ",".join(choices) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Giá trị không hợp lệ",
        error=prompt,
        showInputMessage=True,
        promptTitle=title,
        prompt=prompt,
    )


def widths(ws: Worksheet, sizes: dict[str, float]) -> None:
    for column, width in sizes.items():
        ws.column_dimensions[column].width = width


def header(ws: Worksheet, labels: list[str], title: str, agency: str) -> None:
    """Title, agency line and the column headers; the header row repeats on every page."""
    for ref, text, font in (("B1", title, TITLE), ("B2", agency, BOLD)):
        put(ws, ref, text, font).alignment = NO_WRAP  # runs on over the empty cells to its right
    for column, label in zip("ABCDEFGH", labels, strict=False):
        cell = put(ws, f"{column}{HEADER_ROW}", label, BOLD, box=True)
        cell.alignment, cell.fill = CENTER, HEADER_FILL
    ws.row_dimensions[HEADER_ROW].height = 36
    ws.column_dimensions["A"].hidden = True
    ws.freeze_panes = f"A{FIRST_ROW}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"


def finish(ws: Worksheet, *, landscape: bool = True) -> None:
    """Protect the sheet (input cells stay open) and set it up for printing on A4."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # resizing columns and rows stays allowed
    ws.protection.formatRows = False
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.oddFooter.center.text = "Trang &P / &N"


def guide_sheet(ws: Worksheet, request: Request, link: str) -> None:
    """The instructions: who reports, for which cycle, by when, and how to fill the form."""
    cycle, agency = request.cycle, request.agency
    widths(ws, {"A": 24, "B": 100})
    put(ws, "A1", f"BIỂU MẪU BÁO CÁO KẾT QUẢ THỰC HIỆN NĂM {cycle.year}", TITLE)
    put(ws, "A2", cycle.programme.name, BOLD)
    ws.merge_cells("A1:B1")
    ws.merge_cells("A2:B2")
    fit_row(ws, 2, {"B": cycle.programme.name}, 2)
    year, last = cycle.year, cycle.year - 1
    facts = [
        ("Đơn vị báo cáo", agency.name),
        ("Kỳ báo cáo", f"Năm {year} ({KIND_TEXT.get(cycle.kind, cycle.kind)})"),
        ("Hạn gửi báo cáo", f"Chậm nhất ngày {format_date(cycle.deadline)}"),
        ("Đường dẫn riêng", link),
    ]
    steps = [
        f"Trang «{INDICATORS}»: nhập số liệu năm {year} của đơn vị vào các ô nền vàng của cột "
        f"«Số liệu năm {year}»; ghi chú (nếu có) ở cột «Ghi chú». Cột «Năm {last}» là kết quả "
        "toàn tỉnh năm trước, để tham khảo.",
        "Cách ghi số: dấu phẩy ngăn cách phần thập phân, ví dụ 99,5; dấu chấm ngăn cách hàng "
        "nghìn, ví dụ 4.257.581 (cũng nhận 99.5). Tỷ lệ phần trăm ghi số từ 0 đến 100, không "
        "cần dấu %.",
        "Chỉ tiêu dạng đạt/không đạt: chọn «Có» hoặc «Không» trong danh sách của ô.",
        f"Trang «{TASKS}»: chọn tình trạng thực hiện trong danh sách ("
        + ", ".join(STATUS_LABELS.values())
        + "); nêu kết quả đã thực hiện (bắt buộc, trừ khi chưa triển khai), khó khăn, vướng "
        "mắc và kiến nghị, đề xuất.",
        f"Trang «{PROPOSALS}»: đề xuất điều chỉnh, bổ sung Chương trình trong quá trình thực hiện "
        "(nếu có), theo điểm d khoản 3 mục III của Chương trình.",
        "Chỉ nhập vào các ô nền vàng. Không đổi tên trang, không thêm, xoá hoặc di chuyển dòng: "
        "hệ thống đọc tệp theo đúng cấu trúc này.",
        "Gửi báo cáo: tải tệp đã điền lên trang báo cáo của đơn vị theo đường dẫn riêng ở trên. "
        "Thay cho tệp này, đơn vị cũng có thể điền trực tiếp biểu mẫu trực tuyến tại cùng đường "
        "dẫn. Mỗi lần gửi lại được lưu thành một lần báo cáo mới, thay thế lần trước.",
        "Nếu tệp có lỗi, hệ thống báo rõ ô cần sửa (ví dụ «Chỉ tiêu!G7») và chưa lưu báo cáo.",
    ]
    row = 4
    for label, text in facts:
        put(ws, f"A{row}", label, BOLD)
        put(ws, f"B{row}", text, BOLD if label == "Đơn vị báo cáo" else FONT)
        fit_row(ws, row, {"B": text})
        row += 1
    if link:
        ws[f"B{row - 1}"].hyperlink, ws[f"B{row - 1}"].font = link, LINK
    put(ws, f"A{row + 1}", "CÁCH ĐIỀN BIỂU MẪU", BOLD)
    for number, text in enumerate(steps, start=1):
        put(ws, f"A{row + 1 + number}", f"{number}.")
        put(ws, f"B{row + 1 + number}", text)
        fit_row(ws, row + 1 + number, {"B": text})
    finish(ws, landscape=False)


def indicator_sheet(ws: Worksheet, request: Request, previous: dict[str, Observed]) -> None:
    """One row per indicator: hidden code, number, name, unit, target, last year, value, note."""
    cycle, agency = request.cycle, request.agency
    widths(ws, {"A": 4, "B": 6, "C": 55, "D": 14, "E": 22, "F": 18, "G": 18, "H": 30})
    labels = INDICATOR_HEADERS.format(
        target=cycle.programme.target_year, last=cycle.year - 1, year=cycle.year
    )
    header(ws, labels.split("|"), f"SỐ LIỆU CÁC CHỈ TIÊU NĂM {cycle.year}", agency.name)
    yes_no = drop_down(YES_NO, "Đạt / không đạt", "Chọn «Có» hoặc «Không».")
    hints = {
        kind: DataValidation(showInputMessage=True, promptTitle="Cách ghi số", prompt=hint)
        for kind, hint in NUMBER_HINT.items()
    }
    for row, indicator in enumerate(agency.indicators, start=FIRST_ROW):
        indicator_row(ws, row, indicator, previous.get(indicator.code))
        (yes_no if indicator.kind == "yes_no" else hints.get(indicator.kind, yes_no)).add(
            f"{VALUE_COL}{row}"
        )
    for validation in [yes_no, *hints.values()]:
        if validation.sqref:
            ws.add_data_validation(validation)
    if not agency.indicators:
        put(ws, f"C{FIRST_ROW}", "Đơn vị không có chỉ tiêu nào cần báo cáo trong kỳ này.")
    finish(ws)


def indicator_row(ws: Worksheet, row: int, indicator: Indicator, last: Observed | None) -> None:
    """The cells of one indicator's row."""
    put(ws, f"A{row}", indicator.code, box=True)
    put(ws, f"B{row}", indicator.number, box=True).alignment = CENTER
    put(ws, f"{LABEL_COL}{row}", indicator.name, box=True)
    put(ws, f"D{row}", indicator.unit, box=True)
    put(ws, f"E{row}", target_text(indicator), box=True)
    last_text = value_text(indicator, last.value, last.achieved) if last else "Chưa có"
    put(ws, f"F{row}", last_text, box=True)
    input_cell(ws, f"{VALUE_COL}{row}", text=indicator.kind != "yes_no")
    input_cell(ws, f"{NOTE_COL}{row}")
    fit_row(ws, row, {"C": indicator.name, "E": target_text(indicator)}, 2)


def task_sheet(ws: Worksheet, request: Request) -> None:
    """One row per task group: hidden code, number, name, status, results, difficulties..."""
    cycle, agency = request.cycle, request.agency
    widths(ws, {"A": 4, "B": 6, "C": 40, "D": 22, "E": 45, "F": 35, "G": 35})
    title = f"TÌNH HÌNH THỰC HIỆN NHIỆM VỤ, GIẢI PHÁP NĂM {cycle.year}"
    header(ws, TASK_HEADERS.split("|"), title, agency.name)
    statuses = drop_down(
        tuple(STATUS_LABELS.values()), "Tình trạng", "Chọn tình trạng trong danh sách."
    )
    for row, group in enumerate(agency.task_groups, start=FIRST_ROW):
        put(ws, f"A{row}", group.code, box=True)
        put(ws, f"B{row}", group.number, box=True).alignment = CENTER
        put(ws, f"{LABEL_COL}{row}", group.name, box=True)
        for column in TASK_COLS.values():
            input_cell(ws, f"{column}{row}")
        statuses.add(f"{TASK_COLS['status']}{row}")
        fit_row(ws, row, {"C": group.name}, 6)
    if statuses.sqref:
        ws.add_data_validation(statuses)
    finish(ws)


def proposal_sheet(ws: Worksheet, request: Request) -> None:
    """One open cell for proposed adjustments to the programme (clause 3.d of section III)."""
    widths(ws, {"A": 110})
    put(ws, "A1", "ĐỀ XUẤT ĐIỀU CHỈNH, BỔ SUNG CHƯƠNG TRÌNH", TITLE)
    text = (
        "Theo điểm d khoản 3 mục III của Chương trình, đơn vị đề xuất điều chỉnh trong quá trình "
        "thực hiện (nếu có). Nhập vào ô nền vàng bên dưới; không có thì để trống."
    )
    put(ws, "A2", text)
    fit_row(ws, 2, {"A": text}, 2)
    put(ws, "A3", f"Đơn vị: {request.agency.name}", BOLD)
    input_cell(ws, PROPOSALS_CELL)
    ws.row_dimensions[4].height = 320
    finish(ws, landscape=False)


def meta_sheet(ws: Worksheet, request: Request) -> None:
    """What the reader checks the file against: the cycle, the agency and every row's label."""
    cycle = request.cycle
    values = [cycle.programme.code, cycle.year, cycle.kind, request.agency.code, FORM_VERSION]
    for row, (key, value) in enumerate(zip(META_KEYS, values, strict=True), start=1):
        put(ws, f"A{row}", key)
        put(ws, f"B{row}", value)
    row = META_ROWS
    agency = request.agency
    items = [("indicator", i) for i in agency.indicators]
    for kind, item in items + [("task_group", g) for g in agency.task_groups]:
        for column, value in zip("ABC", (kind, item.code, item.name), strict=True):
            put(ws, f"{column}{row}", value)
        row += 1
    ws.sheet_state = "veryHidden"
    ws.protection.sheet = True


def build_form(request: Request, *, previous: dict[str, Observed], link: str) -> bytes:
    """The XLSX form of one agency for one cycle, pre-filled, as bytes."""
    workbook = Workbook()
    guide_sheet(workbook.active, request, link)
    workbook.active.title = GUIDE
    indicator_sheet(workbook.create_sheet(INDICATORS), request, previous)
    task_sheet(workbook.create_sheet(TASKS), request)
    proposal_sheet(workbook.create_sheet(PROPOSALS), request)
    meta_sheet(workbook.create_sheet(META), request)
    workbook.active = 0
    workbook.security = WorkbookProtection(lockStructure=True)
    workbook.properties.title = f"Biểu mẫu báo cáo năm {request.cycle.year}"
    workbook.properties.creator = request.cycle.programme.code
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def form_filename(request: Request) -> str:
    """'Bieu-mau-bao-cao-2026-so-y-te.xlsx' (ASCII)."""
    kind = KIND_SLUG.get(request.cycle.kind, f"{request.cycle.kind}-")
    agency = re.sub(r"[^a-z0-9]+", "-", request.agency.code.lower()).strip("-") or "don-vi"
    return f"Bieu-mau-bao-cao-{kind}{request.cycle.year}-{agency}.xlsx"
