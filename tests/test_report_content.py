"""The yearly report is one content object (reporting.yearly_content): its DOCX, HTML, annex and
Markdown artifact walk it; the consolidation it is built from stores numbers and enums, and
revisions stored before that still render."""

from __future__ import annotations

import copy
import io

import pytest
from docx import Document
from openpyxl import load_workbook

from documents.content import TableBlock
from documents.content_docx import content_docx
from documents.content_html import report_body, report_page
from documents.content_markdown import content_markdown
from documents.content_xlsx import content_xlsx
from documents.labels import TASK_STATUS_TEXT, Progress, progress_text
from documents.stored_report import old_progress, read_consolidation
from models.orm import TaskStatus
from reporting.yearly_content import build_content
from tests.report_data import DECIDED, NUMBER, SIGNER

MARK = "Đã rút lại báo cáo"  # a status no agency has: seen only where the content changed


def _content(data: dict, registry: dict):  # type: ignore[no-untyped-def]
    return build_content(
        read_consolidation(data),
        registry,
        number=NUMBER,
        signer=SIGNER,
        day=DECIDED.date(),
        annex_reference="Kèm theo Báo cáo số 215/BC-UBND",
    )


def _docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_one_row_changed_in_the_content_shows_in_docx_html_annex_and_markdown(built):
    content = _content(built.data, built.registry)
    table = next(
        b for b in content.blocks if isinstance(b, TableBlock) and "Tình trạng" in b.columns
    )
    assert table in content.annex  # the report's table is the annex sheet's: one object
    row = next(r for r in table.rows if r[1] == "Sở Xây dựng")
    before = [_docx_text(content_docx(content, {})), report_page(content, {}),
              content_markdown(content)]  # fmt: skip
    assert not any(MARK in text for text in before)
    row[2] = MARK
    assert f"Sở Xây dựng\n{MARK}" in _docx_text(content_docx(content, {}))
    assert f"Sở Xây dựng</td><td class=\"left\">{MARK}</td>" in report_page(content, {})
    assert f"Sở Xây dựng</td><td class=\"left\">{MARK}</td>" in report_body(content)
    assert f"| Sở Xây dựng | {MARK} |" in content_markdown(content)
    sheet = load_workbook(io.BytesIO(content_xlsx(content)))["Tình hình báo cáo"]
    found = [r for r in sheet.iter_rows(values_only=True) if r[1] == "Sở Xây dựng"]
    assert found and found[0][2] == MARK and found[0][5] == "Biểu mẫu trực tuyến"


def test_the_consolidation_stores_numbers_and_enums_not_sentences(built):
    data = built.data
    assert {a["status"] for a in data["agencies"]} <= {"on_time", "late", "missing", "returned"}
    assert all("status_text" not in a for a in data["agencies"])
    assert {i["progress"] for i in data["indicators"]} <= {p.value for p in Progress}
    assert all("met_text" not in i for i in data["indicators"])
    assert any(i["ratio"] is not None for i in data["indicators"])
    assert any(i["worsening"] for i in data["indicators"])
    statuses = {e["status"] for g in data["task_groups"] for e in g["entries"]}
    assert statuses == {TaskStatus.DONE.value, TaskStatus.IN_PROGRESS.value}


def _as_stored_before(data: dict) -> dict:
    """``data`` as revisions stored it before the enums: the report's words in their place."""
    old = copy.deepcopy(data)
    for a, row in zip(old["agencies"], read_consolidation(data).agencies, strict=True):
        a["status_text"] = row.status_text
    for i, row in zip(old["indicators"], read_consolidation(data).indicators, strict=True):
        i["met_text"], i["progress"] = row.met_text, row.progress_text
        del i["ratio"], i["worsening"]
    for g in old["task_groups"]:
        for e in g["entries"]:
            e["status"] = TASK_STATUS_TEXT[TaskStatus(e["status"])]
    old["undelivered"] = [
        {"agency": "Sở Y tế", "kind": "Thư nhắc", "status": "Không gửi được", "reply": "550"}
    ]
    return old


def test_a_revision_stored_before_the_enums_renders_the_same(built):
    old = _as_stored_before(built.data)
    converted = read_consolidation(old)
    assert converted.undelivered[0].kind == "reminder"
    assert converted.undelivered[0].status == "failed"
    new = dict(built.data, undelivered=old["undelivered"])
    new["undelivered"] = [
        {"agency": "Sở Y tế", "kind": "reminder", "status": "failed", "reply": "550"}
    ]
    was, now = _content(old, built.registry), _content(new, built.registry)
    assert content_markdown(was) == content_markdown(now)
    assert report_body(was) == report_body(now)
    assert content_docx(was, {}) == content_docx(now, {})
    assert content_xlsx(was) == content_xlsx(now)
    assert "| Sở Y tế | Thư nhắc | Không gửi được | 550 |" in content_markdown(was)


@pytest.mark.parametrize("status", list(Progress))
@pytest.mark.parametrize("ratio", [None, 0.7712, -213.88, 1.0])
@pytest.mark.parametrize("worsening", [False, True])
def test_an_old_progress_sentence_reads_back_as_it_printed(status, ratio, worsening):
    text = progress_text(status, ratio, worsening)
    read, r, w = old_progress(text)
    assert read == status.value and w is worsening
    assert progress_text(Progress(read), r, w) == text


def test_an_old_progress_sentence_must_name_a_status():
    with pytest.raises(ValueError):
        old_progress("Không rõ")


def test_agency_text_keeps_its_line_breaks_in_the_html(built):
    assert "đã triển khai nhóm nhiệm vụ 3.<br>- Hội nghị &lt;b&gt;tập huấn&lt;/b&gt;" in (
        built.final.html
    )


def test_the_artifact_markdown_shows_lists_tables_and_typed_text_as_such(built):
    import markdown

    content = _content(built.data, built.registry)
    html = markdown.markdown(content_markdown(content), extensions=["tables"])
    difficulties = html.split("II. KHÓ KHĂN, VƯỚNG MẮC")[1].split("III.")[0]
    assert difficulties.count("<ul>") == 1  # one tight list, one item per agency
    assert difficulties.count("<li>") == len(read_consolidation(built.data).difficulties)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'style="text-align: right;">2,35%</td>' in html  # numbers right-aligned


def test_the_report_lists_the_extensions_granted_with_their_reasons(built):
    data = copy.deepcopy(built.data)
    assert "Được gia hạn" not in report_body(_content(data, built.registry))
    data["extensions"] = [
        {"agency": "Sở Y tế", "until": "10/12/2026", "requested_until": "12/12/2026",
         "reason": "Chờ số liệu <các huyện>.", "note": "", "status": "on_time"},
    ]  # fmt: skip
    content = _content(data, built.registry)
    html, text = report_body(content), _docx_text(content_docx(content, {}))
    assert "Có 1 cơ quan, đơn vị được gia hạn" in html and "Sở Y tế" in html
    assert "Chờ số liệu &lt;các huyện&gt;." in html  # the agency's words, escaped once
    assert "Gia hạn đến" in text and "10/12/2026" in text and "Chờ số liệu <các huyện>." in text
    row = next(line for line in content_markdown(content).splitlines() if "| Sở Y tế | 10/" in line)
    assert row.startswith("| Sở Y tế | 10/12/2026 | 12/12/2026 | Chờ số liệu") and "Đúng hạn" in row
