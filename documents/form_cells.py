"""The cells, styles and sheet shapes of the agency's Excel forms (``documents.excel_form``, and
the review rounds' form in ``reporting.evaluation_excel``): what every sheet of a form shares."""

from __future__ import annotations

import math

from documents.labels import TASK_STATUS_TEXT
from documents.xlsx_cache import SheetCache
from documents.xlsx_parts import Font, Style
from documents.xlsx_writer import Sheet, Validation, letters_of
from models.orm import TaskStatus

GUIDE, INDICATORS, TASKS, PROPOSALS, META = "Hướng dẫn", "Chỉ tiêu", "Nhiệm vụ", "Đề xuất", "_meta"
HEADER_ROW, FIRST_ROW = 3, 4  # title rows above the header; one row per item below it
VALUE_COL, NOTE_COL, LABEL_COL = "G", "H", "C"
TASK_COLS = {"status": "D", "results": "E", "difficulties": "F", "proposals": "G"}
PROPOSALS_CELL = "A4"
# A4 portrait holds a column about 66 wide (widths count the default font's digits) between
# its margins: LibreOffice printed the wider one (110) at 100 % whatever its fit-to-width setup
# said, cutting it at the right edge of the PDF.
PROPOSALS_WIDTH = 66
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
FOOTER = "&CTrang &P / &N"

FONT = Font()
BOLD = Font(bold=True)
TITLE = Font(size=14, bold=True)
LINK = Font(color="0563C1", underline=True)
INPUT_FILL, HEADER_FILL, GREY = "FFF2CC", "D9E1F2", "808080"
HEADING = Style(BOLD, "center", HEADER_FILL, GREY)
NUMBER = Style(FONT, "center", border=GREY)
INPUT = Style(FONT, fill=INPUT_FILL, border=GREY, unlocked=True)
TEXT_INPUT = Style(FONT, fill=INPUT_FILL, border=GREY, text_format=True, unlocked=True)
PLAIN = {
    (font, box): Style(font, border=GREY if box else None)
    for font in (FONT, BOLD, TITLE, LINK)
    for box in (False, True)
}
TITLE_LINE, AGENCY_LINE = Style(TITLE, "middle"), Style(BOLD, "middle")
FORM_STYLES = (*PLAIN.values(), TITLE_LINE, AGENCY_LINE, HEADING, NUMBER, INPUT, TEXT_INPUT)
SHAPES = SheetCache(FORM_STYLES)  # sheets most agencies share but for their name


def put(ws: Sheet, ref: str, value: object, font: Font = FONT, *, box: bool = False) -> None:
    """Write a value, wrapped at the top of its cell; formula-like text stays plain text."""
    ws.set(ref, value, PLAIN[font, box])


def input_cell(ws: Sheet, ref: str, *, text: bool = False) -> None:
    """An empty, unlocked, highlighted cell for the agency to fill ("@": typed text stays)."""
    ws.set(ref, None, TEXT_INPUT if text else INPUT)


def lines(text: str, width: float) -> int:
    """How many printed lines ``text`` takes in a wrapped column ``width`` characters wide."""
    per_line = max(int(width * 1.05), 1)
    return sum(max(math.ceil(len(part) / per_line), 1) for part in text.split("\n"))


def fit_row(ws: Sheet, row: int, texts: dict[str, str], minimum: int = 1) -> None:
    """Give a row the height its wrapped texts need (Excel does not measure on open)."""
    needed = max([minimum] + [lines(t, ws.widths[c]) for c, t in texts.items()])
    ws.heights[row] = needed * 16 + 4


def drop_down(choices: tuple[str, ...], title: str, prompt: str, cells: list[str]) -> Validation:
    """A list validation that refuses anything not in ``choices``."""
    return Validation(
        tuple(cells), title, prompt, choices, error_title="Giá trị không hợp lệ", error=prompt
    )


def header(ws: Sheet, labels: list[str], title: str, agency: str) -> None:
    """Title, agency line and the column headers; the header row repeats on every page."""
    ws.set("B1", title, TITLE_LINE)  # runs on over the empty cells to its right
    ws.set("B2", agency, AGENCY_LINE)
    for column, label in enumerate(labels, start=1):
        ws.set(f"{letters_of(column)}{HEADER_ROW}", label, HEADING)
    ws.heights[HEADER_ROW] = 36
    ws.frozen_rows = FIRST_ROW - 1
    ws.print_title_row = HEADER_ROW


def table_sheet(name: str, widths: dict[str, float]) -> Sheet:
    """A protected landscape A4 sheet whose column A (the hidden row keys) is hidden."""
    return Sheet(name, widths, hidden_columns=("A",), landscape=True, footer=FOOTER)
