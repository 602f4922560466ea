"""The first sheet of the agency's yearly Excel form: who reports, for which cycle, by when
(the request's own due date, extended or not), its personal link, and how to fill the form and
send it back, in Vietnamese. The sheets it describes are ``documents.excel_form``."""

from __future__ import annotations

from documents.form_cells import (
    BOLD,
    FONT,
    FOOTER,
    GUIDE,
    INDICATORS,
    KIND_TEXT,
    LINK,
    PROPOSALS,
    STATUS_LABELS,
    TASKS,
    TITLE,
    fit_row,
    put,
)
from documents.vietnamese import format_date
from documents.xlsx_writer import Sheet
from models.cycles import due_date
from models.orm import Request


def guide_sheet(request: Request, link: str) -> Sheet:
    """The instructions: who reports, for which cycle, by when, and how to fill the form."""
    cycle, agency = request.cycle, request.agency
    ws = Sheet(GUIDE, {"A": 24, "B": 100}, landscape=False, footer=FOOTER)
    put(ws, "A1", f"BIỂU MẪU BÁO CÁO KẾT QUẢ THỰC HIỆN NĂM {cycle.year}", TITLE)
    put(ws, "A2", cycle.programme.name, BOLD)
    ws.merged += ["A1:B1", "A2:B2"]
    fit_row(ws, 2, {"B": cycle.programme.name}, 2)
    year, last = cycle.year, cycle.year - 1
    facts = [
        ("Đơn vị báo cáo", agency.name),
        ("Kỳ báo cáo", f"Năm {year} ({KIND_TEXT.get(cycle.kind, cycle.kind)})"),
        ("Hạn gửi báo cáo", f"Chậm nhất ngày {format_date(due_date(request))}"  # its own
         + (" (đã gia hạn)" if request.extended_until else "")),
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
        put(ws, f"B{row - 1}", link, LINK)
        ws.link = (f"B{row - 1}", link)
    put(ws, f"A{row + 1}", "CÁCH ĐIỀN BIỂU MẪU", BOLD)
    for number, text in enumerate(steps, start=1):
        put(ws, f"A{row + 1 + number}", f"{number}.")
        put(ws, f"B{row + 1 + number}", text)
        fit_row(ws, row + 1 + number, {"B": text})
    return ws
