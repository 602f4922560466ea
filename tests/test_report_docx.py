"""The yearly report's DOCX, opened with python-docx: Decree 30 layout, content, charts; its PDF
with LibreOffice (which `make test` installs); the HTML page; the email to the ministry with its
attachments."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import re
import subprocess
import zipfile

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from PIL import Image

from documents import decree30
from documents.charts import PNG_SIGNATURE
from tests.report_data import NUMBER, SIGNER
from tests.servers import require_programs


@pytest.fixture(scope="module")
def final(built):
    return Document(io.BytesIO(built.final.docx))


@pytest.fixture(scope="module")
def draft(built):
    return Document(io.BytesIO(built.draft.docx))


def texts(paragraphs) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.text for p in paragraphs]


def run_sizes(paragraph) -> set[float]:  # type: ignore[no-untyped-def]
    return {(r.font.size or Pt(14)).pt for r in paragraph.runs if r.text.strip()}  # 14: Normal


def test_a4_with_decree_30_margins(final):
    section = final.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(0.1)  # stored in twips
    assert abs(section.page_height - Mm(297)) < Mm(0.1)
    twip = Mm(0.02)  # margins are stored in twentieths of a point
    assert Mm(20) - twip <= section.top_margin <= Mm(25)
    assert Mm(20) - twip <= section.bottom_margin <= Mm(25)
    assert Mm(30) - twip <= section.left_margin <= Mm(35)
    assert Mm(15) - twip <= section.right_margin <= Mm(20)


def test_times_new_roman_everywhere_in_13_to_14_pt_body(final):
    normal = final.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size == Pt(14)
    fonts = normal.element.rPr.find(qn("w:rFonts"))
    assert {fonts.get(qn(f"w:{slot}")) for slot in ("ascii", "hAnsi", "cs", "eastAsia")} == {
        "Times New Roman"
    }
    xml = final.element.xml
    assert "w:asciiTheme" not in normal.element.xml
    named = set(re.findall(r'w:ascii="([^"]+)"', xml))
    assert named <= {"Times New Roman"}
    body = [p for p in final.paragraphs if p.text.strip() and p.paragraph_format.first_line_indent]
    assert len(body) > 20
    assert all(run_sizes(p) <= {13.0, 14.0} for p in body)


def test_header_blocks(final, built):
    header = final.tables[0]
    left, right = header.cell(0, 0), header.cell(0, 1)
    assert texts(left.paragraphs)[:2] == ["ỦY BAN NHÂN DÂN", "TỈNH VĨNH LONG"]
    assert all(r.bold and r.font.size == Pt(13) for p in left.paragraphs[:2] for r in p.runs)
    rule = left.paragraphs[2]  # the rule under the issuing body: 1/3 to 1/2 of its length
    assert rule._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom")).get(qn("w:val")) == "single"
    available = decree30.parts.cell_text_pt(decree30.HEADER_WIDTHS_CM[0])
    width = available - 2 * rule.paragraph_format.left_indent.pt
    widest = decree30.text_width_pt("ỦY BAN NHÂN DÂN", 13, bold=True)
    assert widest / 3 <= width <= widest / 2

    assert texts(right.paragraphs) == [decree30.NATIONAL_TITLE, decree30.MOTTO, ""]
    title, motto, rule = right.paragraphs
    assert title.runs[0].bold and title.runs[0].font.size == Pt(13)
    assert motto.runs[0].bold and motto.runs[0].font.size == Pt(14)
    assert rule._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom")) is not None
    available = decree30.parts.cell_text_pt(decree30.HEADER_WIDTHS_CM[1])
    underline = available - 2 * rule.paragraph_format.left_indent.pt
    # as long as the motto (tests/test_report_print.py measures both on the printed page)
    assert underline == pytest.approx(decree30.text_width_pt(decree30.MOTTO, 14, True), abs=0.5)

    assert header.cell(1, 0).text == f"Số: {NUMBER}"
    date = header.cell(1, 1).paragraphs[0]
    assert date.text == "Vĩnh Long, ngày 07 tháng 12 năm 2026"
    assert date.runs[0].italic and not date.runs[0].bold


def test_place_date_line_takes_leading_zeros_for_days_under_10_and_months_1_and_2():
    header = decree30.Header(("UBND",), "BC-UBND", "Vĩnh Long", "5/BC-UBND", dt.date(2027, 2, 3))
    assert header.place_date_line == "Vĩnh Long, ngày 03 tháng 02 năm 2027"
    header = decree30.Header(("UBND",), "BC-UBND", "Vĩnh Long", None, dt.date(2026, 11, 15))
    assert header.place_date_line == "Vĩnh Long, ngày 15 tháng 11 năm 2026"


def test_title_and_numbered_parts(final):
    lines = texts(final.paragraphs)
    title = lines.index("BÁO CÁO")
    summary = final.paragraphs[title + 1]
    assert summary.text.startswith("Kết quả thực hiện Chương trình hành động") and (
        summary.text.endswith("năm 2026")
    )
    assert all(r.bold for r in final.paragraphs[title].runs + summary.runs)
    assert final.paragraphs[title + 2]._p.pPr.find(qn("w:pBdr")) is not None  # the short rule
    parts = [t for t in lines if re.match(r"^(I|II|III|IV)\. ", t)]
    assert parts == [
        "I. KẾT QUẢ TRIỂN KHAI THỰC HIỆN",
        "II. KHÓ KHĂN, VƯỚNG MẮC",
        "III. ĐỀ XUẤT ĐIỀU CHỈNH NỘI DUNG CHƯƠNG TRÌNH",
        "IV. KIẾN NGHỊ",
    ]
    assert "Kính đề nghị Bộ Nội vụ quan tâm, xem xét các kiến nghị của các cơ quan, đơn vị:" in (
        lines
    )
    assert any(t.endswith("./.") for t in lines)


def test_indicator_table_in_vietnamese_number_format(final, built):
    table = next(t for t in final.tables if t.rows[0].cells[1].text == "Chỉ tiêu")
    header = [c.text for c in table.rows[0].cells]
    assert header == [
        "STT",
        "Chỉ tiêu",
        "Mục tiêu 2030",
        "Năm 2025",
        "Năm 2026",
        "Đánh giá",
        "Xu hướng",
        "Tiến độ đến năm 2030",
    ]
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # repeated on each page
    rows = {r.cells[0].text: [c.text for c in r.cells] for r in table.rows[1:]}
    assert len(rows) == 34
    unemployment = rows["2"]
    assert unemployment[1] == "Tỷ lệ thất nghiệp chung"
    assert unemployment[2:6] == ["Dưới 3%", "2,31%", "2,35%", "Đạt"]
    # rose from 2,31% to 2,35%: worse for a lower-is-better target, though still met
    assert unemployment[6] == "Tăng"
    assert unemployment[7] == "Đã đạt mục tiêu; đạt nhưng đang xấu đi"
    housing = next(r for r in rows.values() if r[4] == "4.257.581 căn")
    assert housing[2] == "Theo chỉ tiêu được giao"
    assert housing[5] == housing[7] == "Chưa giao chỉ tiêu"  # not "no data" beside its values
    ratios = [re.search(r"\(R\u00a0=\u00a0(\u2212?\d+,\d+)\)", r[7]) for r in rows.values()]
    assert [m for m in ratios if m]  # ratios written with a decimal comma
    assert all(re.fullmatch(r"\u2212?\d+,\d\d", m.group(1)) for m in ratios if m)  # always 2


def test_the_progress_method_is_printed_under_the_table(final, built):
    text = "\n".join(texts(final.paragraphs)).replace("\u00a0", " ")
    assert "Phương pháp đánh giá tiến độ:" in text
    assert "thay bằng 0,001" in text and "R ≥ 0,95 đúng lộ trình" in text
    assert "Phương pháp đánh giá tiến độ:" in built.final.html


def test_section_ii_lists_each_agency_once_with_all_its_difficulties(final, built):
    body = texts(final.paragraphs)
    start = body.index("II. KHÓ KHĂN, VƯỚNG MẮC")
    end = next(n for n, t in enumerate(body) if t.startswith("III. "))
    items = body[start + 1 : end]
    agencies = [t.split(":")[0] for t in items]
    assert len(agencies) == len(set(agencies)) >= 3, items
    with_two = [t for t in items if "Thiếu kinh phí" in t and "Thiếu cán bộ chuyên trách" in t]
    assert with_two
    markdown = built.data and built.final.html.split("KHÓ KHĂN, VƯỚNG MẮC")[1].split("III.")[0]
    assert markdown.count("<li>") == len(items)


def test_only_accepted_submissions_are_reported(final, built):
    text = "\n".join(texts(final.paragraphs))
    assert "Sở Nội vụ đã triển khai nhóm nhiệm vụ" in text
    assert "Sở Giáo dục và Đào tạo đã triển khai" not in text  # sent back, never resubmitted
    agencies = next(t for t in final.tables if t.rows[0].cells[1].text == "Cơ quan, đơn vị")
    status = {r.cells[1].text: r.cells[2].text for r in agencies.rows[1:]}
    assert status["Sở Giáo dục và Đào tạo"] == "Bị trả lại, chưa gửi lại"
    assert status["Sở Y tế"] == "Trễ hạn" and status["Sở Nội vụ"] == "Đúng hạn"
    assert (
        "Có 5/23 cơ quan, đơn vị gửi báo cáo (đạt 21,7%), trong đó 4 đúng hạn và 1 trễ hạn "
        "(hạn 04/12/2026); 18 cơ quan, đơn vị chưa báo cáo." in text
    )


def test_recipients_and_signature(final, built):
    closing = next(t for t in final.tables if t.cell(0, 0).text.startswith("Nơi nhận:"))
    left = closing.cell(0, 0).paragraphs
    assert left[0].text == "Nơi nhận:"
    assert left[0].runs[0].bold and left[0].runs[0].italic and left[0].runs[0].font.size == Pt(12)
    lines = texts(left[1:])
    assert lines[0] == "- Bộ Nội vụ (báo cáo);"
    assert all(t.startswith("- ") and t.endswith(";") for t in lines[:-1])
    assert lines[-1] == "- Lưu: VT, VHXH."
    assert all(run_sizes(p) == {11.0} for p in left[1:])
    right = [p for p in closing.cell(0, 1).paragraphs if p.text]
    assert texts(right) == ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", SIGNER]
    assert all(r.bold for p in right for r in p.runs)
    assert len(closing.cell(0, 1).paragraphs) - len(right) >= 3  # room for the signature


def test_page_numbers_from_page_two(final):
    section = final.sections[0]
    assert section.different_first_page_header_footer
    assert "PAGE" in "".join(section.header._element.itertext())
    assert section.header.paragraphs[0].alignment == 1  # centred
    assert "PAGE" not in "".join(section.first_page_header._element.itertext())


def test_draft_is_marked_with_no_number_date_or_signer(draft, built):
    lines = texts(draft.paragraphs)
    assert lines[0] == "DỰ THẢO" and lines[1].startswith("Tổng hợp ngày 06/12/2026")
    header = draft.tables[0]
    assert re.fullmatch(r"Số:\s+/BC-UBND", header.cell(1, 0).text)
    assert re.fullmatch(r"Vĩnh Long, ngày\s+tháng\s+năm 2026", header.cell(1, 1).text)
    closing = next(t for t in draft.tables if t.cell(0, 0).text.startswith("Nơi nhận:"))
    assert SIGNER not in closing.cell(0, 1).text and "Nguyễn Văn A" not in closing.cell(0, 1).text
    assert "DỰ THẢO" not in texts(Document(io.BytesIO(built.final.docx)).paragraphs)


def test_charts_are_png_embedded_in_the_docx(final, built):
    blobs = [
        final.part.related_parts[shape._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
        for shape in final.inline_shapes
    ]
    assert len(blobs) == 1 + 34  # the overview, then one per indicator (the appendix)
    assert blobs[0] == built.final.charts.overview
    assert blobs[1:] == [png for _, png in built.final.charts.indicators]
    for blob in blobs:
        assert blob.startswith(PNG_SIGNATURE)
        Image.open(io.BytesIO(blob)).verify()
    assert "PHỤ LỤC" in texts(final.paragraphs)
    assert f"(Kèm theo Báo cáo số {NUMBER} ngày 07/12/2026 của Ủy ban nhân dân tỉnh Vĩnh Long)" in (
        texts(final.paragraphs)
    )


def test_same_revision_gives_the_same_bytes(built):
    with zipfile.ZipFile(io.BytesIO(built.final.docx)) as package:
        assert {info.date_time for info in package.infolist()} == {(2000, 1, 1, 0, 0, 0)}
    assert Document(io.BytesIO(built.final.docx)).core_properties.author == (
        "Ủy ban nhân dân tỉnh Vĩnh Long"
    )


def test_email_to_the_ministry_carries_the_docx_and_the_annex(built):
    message = email.message_from_bytes(built.email, policy=email.policy.default)
    attached = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert {  # the signed PDF beside them: tests of documents/signing
        "Báo cáo số 215-BC-UBND năm 2026.docx",
        "Phụ lục - Báo cáo số 215-BC-UBND năm 2026.xlsx",
    } <= set(attached)
    assert attached["Báo cáo số 215-BC-UBND năm 2026.docx"] == built.final.docx  # same bytes
    assert attached["Phụ lục - Báo cáo số 215-BC-UBND năm 2026.xlsx"] == built.final.xlsx
    assert "tệp Word" in message.get_body(("plain",)).get_content()
    written = built.folder / "reports" / "vinh-long-r42" / "2026"
    assert (written / "bao-cao-2026-215-BC-UBND.docx").read_bytes() == built.final.docx


def test_the_ministry_reads_the_email_in_prose_with_ruled_tables(built):
    message = email.message_from_bytes(built.email, policy=email.policy.default)
    issuer = "Ủy ban nhân dân tỉnh Vĩnh Long"
    assert f"{issuer} gửi Báo cáo số 215/BC-UBND" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert f"{issuer} trân trọng gửi Bộ Nội vụ Báo cáo số 215/BC-UBND" in text
    report = text.split("(toàn văn dưới đây)")[1]
    for mark in (" | ", "**", "## ", "---|", ":---:", "\\"):
        assert mark not in report, mark
    lines = text.splitlines()
    assert not [line for line in lines if line.startswith(("|", "#", "*"))]
    for heading in ("BÁO CÁO", "I. KẾT QUẢ TRIỂN KHAI THỰC HIỆN", "II. KHÓ KHĂN, VƯỚNG MẮC",
                    "ỦY BAN NHÂN DÂN TỈNH VĨNH LONG", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                    "Nơi nhận:", "TM. ỦY BAN NHÂN DÂN", "Trần Thị Bình"):  # fmt: skip
        assert heading in lines, heading
    assert "2. Tỷ lệ thất nghiệp chung" in lines  # each table row a line, then its values
    html = message.get_body(("html",)).get_content()
    tables = re.findall(r"<table[^>]*>", html)
    ruled = [t for t in tables if "border-collapse" in t and 'border="1"' in t]
    assert len(tables) >= 4 and len(ruled) == len(tables) - 2  # header, signature unruled
    assert re.search(r'<th style="border: 1px solid[^"]*font-weight: bold;', html)
    assert re.search(r'<td style="border: 1px solid', html)


def test_html_page_embeds_the_charts(built):
    html = built.final.html
    assert html.startswith("<!DOCTYPE html>") and '<html lang="vi">' in html
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 35
    assert f"Số: {NUMBER}" in html and "4.257.581 căn" in html


def test_libreoffice_converts_it_to_an_a4_pdf_numbered_from_page_two(built, tmp_path):
    require_programs("soffice", "pdfinfo", "pdftotext")
    source = tmp_path / "bao-cao.docx"
    source.write_bytes(built.final.docx)
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pdf = tmp_path / "bao-cao.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info.stdout)
    assert 5 <= pages <= 40

    def page(number: int) -> list[str]:
        out = subprocess.run(
            ["pdftotext", "-layout", "-f", str(number), "-l", str(number), str(pdf), "-"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        return [line.strip() for line in out.splitlines() if line.strip()]

    first = page(1)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in first[0] and not first[0].isdigit()
    assert any("Độc lập - Tự do - Hạnh phúc" in line for line in first)
    for number in range(2, pages + 1):
        assert page(number)[0] == str(number)  # the page number heads every later page
    assert any("PHỤ LỤC" in line for n in range(pages - 4, pages + 1) for line in page(n))


def test_a_line_before_a_line_break_is_not_stretched(final):
    """An agency's second text follows a line break in a justified paragraph: Word and
    LibreOffice would spread the first line to the margin without this setting."""
    compat = final.settings.element.find(qn("w:compat"))
    assert compat is not None and compat.find(qn("w:doNotExpandShiftReturn")) is not None
