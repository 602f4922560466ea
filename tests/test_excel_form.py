"""The Excel form: built pre-filled and protected, read back safely, imported through intake."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from documents.excel_form import form_filename
from documents.form_cells import FIRST_ROW, INDICATORS, META, PROPOSALS, TASKS
from models.cycles import ensure_requests, open_cycle
from models.database import session_scope
from models.observations import Observed
from models.orm import Agency, Channel, Cycle, Request, Submission
from reporting.excel_import import import_form
from reporting.excel_reader import RELOAD, ExcelFormError, read_form
from reporting.form_binding import signed_form
from tests.factories import PROGRAMME, at

OPENED = dt.date(2026, 11, 2)
AGENCY = "so-y-te"
LINK = "https://baocao.vinhlong.example/bao-cao/abc"
SHEET_XML = "xl/worksheets/sheet2.xml"  # the "Chỉ tiêu" sheet


@pytest.fixture
def cycle_2026(db):
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, OPENED, session=session)
        ensure_requests(cycle, session=session)
        return cycle.id


def request_of(session, agency: str = AGENCY) -> Request:
    return session.scalar(
        select(Request)
        .join(Request.cycle)
        .join(Request.agency)
        .where(Cycle.year == 2026, Agency.code == agency)
    )


def form_bytes(agency: str = AGENCY, previous: dict | None = None, rename: str | None = None):
    with session_scope() as session:
        request = request_of(session, agency)
        if rename is not None:
            request.agency.name = rename  # never flushed: the session is rolled back below
        data = signed_form(request, previous=previous or {}, link=LINK)
        session.rollback()
    return data


def open_book(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def save(book: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rows(ws, column: str = "A") -> dict[str, int]:
    """Hidden key -> row number."""
    return {
        ws[f"{column}{r}"].value: r
        for r in range(FIRST_ROW, ws.max_row + 1)
        if ws[f"{column}{r}"].value
    }


def fill(data: bytes, **overrides) -> openpyxl.Workbook:
    """The form filled validly (numbers, text numbers, yes/no, statuses, texts), then edited."""
    book = open_book(data)
    ws = book[INDICATORS]
    for r in rows(ws).values():
        achieved, percent = ws[f"E{r}"].value == "Đạt", ws[f"D{r}"].value == "%"
        ws[f"G{r}"] = "Có" if achieved else 80 if percent else 40
    by_code = rows(ws)
    if "immunisation" in by_code:
        ws[f"G{by_code['immunisation']}"] = "99,5"
        ws[f"G{by_code['hospital_beds']}"] = 32.5
        ws[f"H{by_code['immunisation']}"] = "Số liệu sơ bộ."
    tasks = book[TASKS]
    for code, r in rows(tasks).items():
        tasks[f"D{r}"] = "Hoàn thành" if code != "resources" else "Chưa triển khai"
        tasks[f"E{r}"] = f"Đã thực hiện {code}." if code != "resources" else None
    tasks[f"F{rows(tasks)['basic_services']}"] = "Thiếu bác sĩ."
    tasks[f"D{rows(tasks)['labour_market']}"] = "Thực hiện thường xuyên"
    book[PROPOSALS]["A4"] = "Bổ sung chỉ tiêu về sức khỏe tâm thần."
    for ref, value in overrides.items():
        sheet, cell = ref.split("__")
        book[{"i": INDICATORS, "t": TASKS}[sheet]][cell] = value
    return book


def count_submissions() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Submission))


def import_as(session, data: bytes, owner: str = AGENCY, expected: bool = True, **kwargs):
    """Import as an upload on ``owner``'s page, or as ops (no expected request)."""
    return import_form(
        data,
        session=session,
        channel=Channel.UPLOAD,
        submitted_by="test (upload)",
        submitted_at=at(dt.date(2026, 11, 20)),
        expected_request=request_of(session, owner) if expected else None,
        **kwargs,
    )


def upload(data: bytes, owner: str = AGENCY, **kwargs) -> tuple[int, int]:
    """(revision, submission id) of an accepted import."""
    with session_scope() as session:
        submission = import_as(session, data, owner, **kwargs)
        return submission.revision, submission.id


def refused(data: bytes, owner: str = AGENCY, **kwargs) -> list[str]:
    """The errors of a refused import made in a session that commits anyway; nothing is kept."""
    before = count_submissions()
    with session_scope() as session, pytest.raises(ExcelFormError) as info:
        import_as(session, data, owner, **kwargs)
    assert count_submissions() == before
    assert info.value.errors and all(isinstance(e, str) and e for e in info.value.errors)
    return info.value.errors


# --- round trip ------------------------------------------------------------------------------


def test_a_filled_form_is_stored_and_a_second_upload_is_revision_2(cycle_2026):
    revision, submission_id = upload(save(fill(form_bytes())))
    assert revision == 1
    with session_scope() as session:
        submission = session.get(Submission, submission_id)
        values = {v.indicator.code: v for v in submission.values}
        assert values["immunisation"].value == Decimal("99.5")
        assert values["immunisation"].note == "Số liệu sơ bộ."
        assert values["hospital_beds"].value == Decimal("32.5")
        assert values["fertility"].value == Decimal("40")
        assert values["health_managed"].value == Decimal("80")
        assert values["aids_tb"].achieved is True and values["aids_tb"].value is None
        assert len(values) == 12
        tasks = {t.task_group.code: t for t in submission.task_reports}
        assert tasks["communication"].status == "done"
        assert tasks["communication"].results == "Đã thực hiện communication."
        assert tasks["labour_market"].status == "ongoing"
        assert tasks["resources"].status == "not_started" and tasks["resources"].results == ""
        assert tasks["basic_services"].difficulties == "Thiếu bác sĩ."
        assert submission.adjustment_proposals == "Bổ sung chỉ tiêu về sức khỏe tâm thần."
        assert submission.channel == "upload" and submission.is_late is False
    assert upload(save(fill(form_bytes())))[0] == 1  # the same again: no new revision
    changed = fill(form_bytes())
    changed[PROPOSALS]["A4"] = "Bổ sung chỉ tiêu về chăm sóc người cao tuổi."
    assert upload(save(changed))[0] == 2


def test_ops_import_finds_the_request_from_the_hidden_sheet(cycle_2026):
    data = save(fill(form_bytes("so-gddt")))
    parsed = read_form(data)
    assert (parsed.programme, parsed.year, parsed.kind, parsed.agency) == (
        PROGRAMME,
        2026,
        "annual",
        "so-gddt",
    )
    assert parsed.cells["adjustment_proposals"] == f"{PROPOSALS}!A4"
    with session_scope() as session:
        submission = import_form(
            data,
            session=session,
            channel=Channel.OPS_IMPORT,
            submitted_by="ops",
            submitted_at=at(dt.date(2026, 12, 7)),
        )
        assert submission.request.agency.code == "so-gddt"
        assert submission.is_late is True and submission.channel == "ops_import"


def test_a_percent_formatted_number_cell_is_read_as_a_percentage(cycle_2026):
    book = fill(form_bytes())
    ws = book[INDICATORS]
    cell = ws[f"G{rows(ws)['immunisation']}"]
    cell.value, cell.number_format = 0.995, "0.0%"
    parsed = read_form(save(book))
    assert Decimal(parsed.submission.values["immunisation"]) == Decimal("99.5")


# --- the built form ---------------------------------------------------------------------------


def test_the_form_is_protected_with_open_input_cells_and_drop_downs(cycle_2026):
    previous = {"immunisation": Observed(Decimal("97.2"), None)}
    book = open_book(form_bytes(previous=previous))
    assert book.sheetnames == ["Hướng dẫn", INDICATORS, TASKS, PROPOSALS, "_ky", META]
    assert book["_ky"].sheet_state == "veryHidden"  # the form's signed token
    assert book[META].sheet_state == "veryHidden"
    assert book.security.lockStructure
    ws = book[INDICATORS]
    assert all(book[name].protection.sheet for name in book.sheetnames)
    assert ws.column_dimensions["A"].hidden and book[TASKS].column_dimensions["A"].hidden
    assert ws.freeze_panes == f"A{FIRST_ROW}"
    r = rows(ws)["immunisation"]
    assert ws[f"F{r}"].value == "97,2%" and ws[f"F{rows(ws)['doctors']}"].value == "Chưa có"
    assert ws[f"E{r}"].value == "Tối thiểu 95%" and ws[f"B{r}"].value == 24
    assert all(ws[f"{c}{r}"].protection.locked for c in "ABCDEF")
    assert not ws[f"G{r}"].protection.locked and not ws[f"H{r}"].protection.locked
    lists = {str(v.sqref): v.formula1 for v in ws.data_validations.dataValidation if v.formula1}
    yes_no = {rows(ws)["minimum_living"], rows(ws)["aids_tb"]}
    assert lists == {" ".join(f"G{n}" for n in sorted(yes_no)): '"Có,Không"'}
    tasks = book[TASKS]
    t = rows(tasks)["communication"]
    assert tasks[f"C{t}"].protection.locked
    assert not any(tasks[f"{c}{t}"].protection.locked for c in "DEFG")
    (status,) = tasks.data_validations.dataValidation
    assert "Thực hiện thường xuyên" in status.formula1 and f"D{t}" in str(status.sqref)
    assert not book[PROPOSALS]["A4"].protection.locked and book[PROPOSALS]["A1"].protection.locked
    guide = [c.value for row in book["Hướng dẫn"].iter_rows() for c in row if c.value]
    assert "Chậm nhất ngày 04/12/2026" in guide and LINK in guide and "Sở Y tế" in guide
    assert any("99,5" in str(text) for text in guide)
    meta = {book[META][f"A{n}"].value: book[META][f"B{n}"].value for n in range(1, 6)}
    assert meta == {
        "programme": PROGRAMME,
        "year": 2026,
        "kind": "annual",
        "agency": AGENCY,
        "version": "1",
    }


def test_text_that_looks_like_a_formula_is_written_as_text(cycle_2026):
    book = open_book(form_bytes(rename="=1+1"))
    cells = [c for ws in book for row in ws.iter_rows() for c in row if c.value == "=1+1"]
    assert len(cells) >= 3  # instructions and both table sheets
    assert all(c.data_type == "s" for c in cells)
    readonly = openpyxl.load_workbook(io.BytesIO(form_bytes(rename="=1+1")), data_only=True)
    assert readonly["Hướng dẫn"]["B4"].value == "=1+1"


def test_the_form_keeps_its_layout_styles_and_print_setup(cycle_2026):
    book = open_book(form_bytes())
    assert book.properties.title == "Biểu mẫu báo cáo năm 2026"
    guide, ws, tasks = book["Hướng dẫn"], book[INDICATORS], book[TASKS]
    assert {str(r) for r in guide.merged_cells.ranges} == {"A1:B1", "A2:B2"}
    link = next(c for row in guide.iter_rows() for c in row if c.value == LINK)
    assert link.hyperlink.target == LINK and link.font.underline == "single"
    title, heading, name = ws["B1"], ws["C3"], ws[f"C{FIRST_ROW}"]
    assert (title.font.name, title.font.sz, title.font.b) == ("Times New Roman", 14, True)
    assert heading.font.b and heading.fill.fgColor.rgb.endswith("D9E1F2")
    assert heading.alignment.horizontal == "center" and heading.border.left.style == "thin"
    assert (name.font.name, name.font.sz, name.alignment.wrap_text) == ("Times New Roman", 12, True)
    r = rows(ws)["immunisation"]
    value, note = ws[f"G{r}"], ws[f"H{r}"]
    assert value.fill.fgColor.rgb.endswith("FFF2CC") and value.number_format == "@"
    assert note.number_format == "General"  # free text; the yes/no cell also keeps "General"
    assert ws[f"G{rows(ws)['aids_tb']}"].number_format == "General"
    assert ws.column_dimensions["C"].width == 55 and ws.row_dimensions[3].height == 36
    assert ws.row_dimensions[r].height >= 36  # two wrapped lines at least
    for sheet in (ws, tasks):
        assert sheet.print_title_rows == "$3:$3"
        assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1
        assert sheet.oddFooter.center.text == "Trang &P / &N"
        assert not sheet.protection.formatColumns and not sheet.protection.formatRows
    assert guide.page_setup.orientation == book[PROPOSALS].page_setup.orientation == "portrait"


def test_the_built_form_is_read_back_as_it_is_and_odd_characters_are_dropped(cycle_2026):
    parsed = read_form(form_bytes())  # straight from the writer, not re-saved by openpyxl
    assert parsed.agency == AGENCY and parsed.submission.values == {}
    assert set(parsed.submission.tasks) == set(rows(open_book(form_bytes())[TASKS]))
    book = open_book(form_bytes(rename='Sở\x07 Y tế <&> "x"\ufffe'))
    assert book[INDICATORS]["B2"].value == 'Sở Y tế <&> "x"'


def test_forms_of_the_same_shape_share_sheets_but_carry_their_own_agency(cycle_2026):
    first, second = form_bytes(), form_bytes(rename="Sở Y tế (bản sao)")
    assert zipfile.ZipFile(io.BytesIO(first)).testzip() is None  # every CRC checks out
    assert zipfile.ZipFile(io.BytesIO(second)).testzip() is None
    for data, name in ((first, "Sở Y tế"), (second, "Sở Y tế (bản sao)")):
        book = open_book(data)
        assert book[INDICATORS]["B2"].value == book[TASKS]["B2"].value == name
        assert book[PROPOSALS]["A3"].value == f"Đơn vị: {name}"
        assert book[META]["B4"].value == AGENCY
    assert form_bytes() == first  # the same input gives the same bytes


def test_the_file_name_is_ascii(cycle_2026):
    with session_scope() as session:
        assert form_filename(request_of(session)) == "Bieu-mau-bao-cao-2026-so-y-te.xlsx"


# --- malformed files --------------------------------------------------------------------------


def test_a_renamed_sheet_is_named(cycle_2026):
    book = fill(form_bytes())
    book[INDICATORS].title = "Sheet1"
    (error,) = refused(save(book))
    assert "«Chỉ tiêu»" in error and "đổi tên" in error


def test_swapped_labels_are_refused_naming_the_cells(cycle_2026):
    book = fill(form_bytes())
    ws = book[INDICATORS]
    a, b = rows(ws)["doctors"], rows(ws)["nurses"]
    ws[f"C{a}"].value, ws[f"C{b}"].value = ws[f"C{b}"].value, ws[f"C{a}"].value
    errors = refused(save(book))
    assert [e.split(":")[0] for e in errors] == [f"{INDICATORS}!C{a}", f"{INDICATORS}!C{b}"]
    assert "không khớp" in errors[0]


def test_a_deleted_row_is_refused(cycle_2026):
    book = fill(form_bytes())
    ws = book[TASKS]
    ws.delete_rows(rows(ws)["social_security"])
    (error,) = refused(save(book))
    assert error.startswith(f"{TASKS}: Thiếu dòng") and "xoá" in error


def test_an_unknown_or_duplicated_key_is_refused(cycle_2026):
    book = fill(form_bytes())
    ws = book[INDICATORS]
    keys = rows(ws)
    ws[f"A{keys['doctors']}"] = "nurses"
    ws[f"A{keys['pharmacists']}"] = "made_up"
    errors = refused(save(book))
    doctors, nurses, pharmacists = keys["doctors"], keys["nurses"], keys["pharmacists"]
    assert errors == [
        f"{INDICATORS}!C{doctors}: «Số bác sĩ trên 10.000 dân» không khớp với dòng gốc «Số điều "
        f"dưỡng viên trên 10.000 dân» (dòng bị di chuyển hoặc ghi đè). {RELOAD}",
        f"{INDICATORS}!A{pharmacists}: Dòng {pharmacists} không thuộc biểu mẫu gốc (mã ẩn "
        f"«made_up» không hợp lệ). {RELOAD}",
        f"{INDICATORS}!A{nurses}: Dòng {nurses} trùng với dòng {doctors} (dòng bị sao chép). "
        + RELOAD,
        f"{INDICATORS}: Thiếu dòng «Số bác sĩ trên 10.000 dân» (dòng đã bị xoá). {RELOAD}",
        f"{INDICATORS}: Thiếu dòng «Số dược sĩ trên 10.000 dân» (dòng đã bị xoá). {RELOAD}",
    ]


@pytest.mark.parametrize(
    "cell, value, message",
    [
        ("B2", "hai nghìn", "Phần thông tin ẩn của biểu mẫu bị thiếu hoặc đã bị sửa."),
        ("B4", None, "Phần thông tin ẩn của biểu mẫu bị thiếu hoặc đã bị sửa."),
        ("B5", "0", "Biểu mẫu này là phiên bản khác, không còn dùng được."),
        (None, None, "Tệp thiếu phần thông tin ẩn của biểu mẫu."),
    ],
    ids=["year", "agency", "version", "removed"],
)
def test_an_altered_hidden_sheet_is_refused(cycle_2026, cell, value, message):
    book = fill(form_bytes())
    if cell:
        book[META][cell] = value
    else:
        del book[META]
    assert refused(save(book)) == [f"{message} {RELOAD}"]


def test_text_in_a_number_cell_names_the_cell(cycle_2026):
    data = form_bytes()
    keys = rows(open_book(data)[INDICATORS])
    first, doctors = min(keys.values()), keys["doctors"]
    edits = {f"i__G{first}": "abc", f"i__G{doctors}": "12,3,4"}
    assert refused(save(fill(data, **edits))) == [
        f"{INDICATORS}!G{first}: Phải là một số, ví dụ 99,5.",
        f"{INDICATORS}!G{doctors}: Phải là một số, ví dụ 99,5.",
    ]


def test_intake_errors_are_mapped_to_cells(cycle_2026):
    data = form_bytes()
    ws = open_book(data)[INDICATORS]
    r, empty = rows(ws)["immunisation"], rows(ws)["nurses"]
    t = rows(open_book(data)[TASKS])["communication"]
    errors = refused(save(fill(data, **{f"i__G{r}": 120, f"i__G{empty}": None, f"t__E{t}": None})))
    assert f"{INDICATORS}!G{empty}: Chưa nhập số liệu." in errors
    assert f"{INDICATORS}!G{r}: Tỷ lệ phần trăm phải trong khoảng 0-100." in errors
    assert f"{TASKS}!E{t}: Nêu kết quả đã thực hiện." in errors


def test_an_unknown_status_label_names_the_cell(cycle_2026):
    data = form_bytes()
    t = rows(open_book(data)[TASKS])["labour_market"]
    (error,) = refused(save(fill(data, **{f"t__D{t}": "Xong rồi"})))
    assert error.startswith(f"{TASKS}!D{t}: «Xong rồi» không phải là tình trạng hợp lệ")


def test_a_zip_bomb_is_refused_before_parsing(cycle_2026):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            zeros = bytes(1 << 20)
            for _ in range(200):
                member.write(zeros)
    bomb = buffer.getvalue()
    assert len(bomb) < 1_000_000
    (error,) = refused(bomb)
    assert "không an toàn" in error and "nén" in error
    with pytest.raises(ExcelFormError, match="nén bất thường"):  # the ratio alone refuses it too
        read_form(bomb, max_unpacked=10**10)


def swap_member(data: bytes, name: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            archive.writestr(item, content if item.filename == name else source.read(item))
    return buffer.getvalue()


def laugh(level: int) -> str:
    return (f"&lol{level - 1};" if level else "&lol;") * 10


def test_an_xml_entity_bomb_is_refused(cycle_2026):
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{i} "{laugh(i)}">' for i in range(9))
        + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="4"><c r="A4" t="inlineStr"><is><t>&lol8;</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    data = save(fill(form_bytes()))
    (error,) = refused(swap_member(data, SHEET_XML, laughs.encode()))
    assert (
        error == "Tệp có nội dung không an toàn (khai báo DOCTYPE/ENTITY trong XML) nên không "
        "được xử lý; vui lòng dùng biểu mẫu gốc."
    )
    utf16 = laughs.replace('"1.0"?', '"1.0" encoding="UTF-16"?').encode("utf-16")
    with pytest.raises(ExcelFormError, match="DOCTYPE"):
        read_form(swap_member(data, SHEET_XML, utf16))


@pytest.mark.parametrize(
    "data, message",
    [
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "không phải là tệp Excel"),
        ("Chỉ tiêu;Số liệu\nimmunisation;99,5\n".encode(), "không phải là tệp Excel"),
        (b"", "rỗng"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), ".xls"),
    ],
    ids=["pdf", "text", "empty", "xls"],
)
def test_files_that_are_not_xlsx_are_refused(cycle_2026, data, message):
    (error,) = refused(data)
    assert message in error


def test_a_zip_that_is_not_a_workbook_is_refused(cycle_2026):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
    (error,) = refused(buffer.getvalue())
    assert "Tệp không phải là tệp Excel (.xlsx)" in error and "(Excel Workbook)" in error


def test_a_broken_workbook_is_refused(cycle_2026):
    data = swap_member(save(fill(form_bytes())), SHEET_XML, b"<worksheet><row")
    (error,) = refused(data)
    assert "bị hỏng" in error


def test_a_file_over_the_size_limit_is_refused(cycle_2026):
    data = save(fill(form_bytes()))
    with pytest.raises(ExcelFormError) as info:
        read_form(data, max_bytes=len(data) - 1)
    assert info.value.errors[0].startswith("Tệp quá lớn")
    (error,) = refused(data + bytes(5_000_001 - len(data)))
    assert error == "Tệp quá lớn: chỉ nhận tệp có dung lượng tối đa 5 MB."


def test_another_agencys_form_is_refused(cycle_2026):
    data = save(fill(form_bytes("so-gddt")))
    (error,) = refused(data, owner=AGENCY)
    assert error.startswith("Tệp này là biểu mẫu của đơn vị khác") and "Sở Y tế" in error


def test_a_form_of_another_cycle_is_refused(cycle_2026):
    book = fill(form_bytes())
    book[META]["B2"] = 2025
    (error,) = refused(save(book))
    assert error.startswith("Tệp này là biểu mẫu của kỳ báo cáo khác (năm 2025)")
    assert refused(save(book), expected=False) == [
        "Không có kỳ báo cáo năm 2025 (báo cáo hằng năm) của chương trình «vinh-long-r42»."
    ]


def test_ops_overrides_name_what_is_missing(cycle_2026):
    data = save(fill(form_bytes()))
    assert refused(data, expected=False, agency="khong-co") == [
        "Đơn vị «khong-co» không có trong danh sách báo cáo năm 2026."
    ]
    # another agency named for this agency's form: its signature names this one's request
    (error,) = refused(data, expected=False, agency="so-gddt")
    assert "không khớp với chữ ký" in error and "Sở Giáo dục và Đào tạo" in error


def test_a_locked_cycle_refuses_the_file(cycle_2026):
    with session_scope() as session:
        session.get(Cycle, cycle_2026).status = "locked"
    assert refused(save(fill(form_bytes()))) == ["Kỳ báo cáo đã khóa, không nhận thêm báo cáo."]
