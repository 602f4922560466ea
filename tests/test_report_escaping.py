"""What an agency types shows as typed in every form of the report: never as HTML that runs in
the coordinator's browser or the ministry's mail reader, never as Markdown formatting."""

from __future__ import annotations

import email
import email.policy
import io

import markdown
from docx import Document
from openpyxl import load_workbook

from documents.markdown_text import markdown_text
from tests.report_data import MARKUP

TYPED = "<script>alert(1)</script>"


def test_markdown_text_shows_text_as_typed():
    cases = {
        "<b>đậm</b> & <i>": "&lt;b&gt;đậm&lt;/b&gt; &amp; &lt;i&gt;",
        "*a* _b_ `c` [d](javascript:x()) e|f \\": "*a* _b_ `c` [d](javascript:x()) e|f \\",
        "dòng một\n- dòng hai\n1. dòng ba\n# bốn\n\n> năm": (
            "dòng một<br />\n  - dòng hai<br />\n  1. dòng ba<br />\n  # bốn<br />\n  &gt; năm"
        ),
        "&lt; đã gõ": "&amp;lt; đã gõ",
    }
    for typed, shown in cases.items():
        html = markdown.markdown(f"- **Sở X**: {markdown_text(typed)}", extensions=["tables"])
        assert html == f"<ul>\n<li><strong>Sở X</strong>: {shown}</li>\n</ul>", typed
    cell = markdown_text("a|b\nc", one_line=True)
    table = markdown.markdown(f"| x |\n|---|\n| {cell} |", extensions=["tables"])
    assert "<td>a|b c</td>" in table


def test_the_html_page_and_the_ministry_email_show_the_script_as_text(built):
    message = email.message_from_bytes(built.email, policy=email.policy.default)
    for html in (built.final.html, built.draft.html, message.get_body(("html",)).get_content()):
        assert TYPED not in html and "<b>tập huấn</b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "[xem](javascript:x()) *a* 1_000" in html and 'href="javascript' not in html
    plain = message.get_body(("plain",)).get_content()
    assert f"{TYPED} [xem](javascript:x()) *a* 1_000" in plain  # plain text: as typed


def test_the_docx_and_the_annex_keep_the_text_as_typed(built):
    paragraphs = [p.text for p in Document(io.BytesIO(built.final.docx)).paragraphs]
    assert any(MARKUP.strip() in text for text in paragraphs)  # on its own line, as typed
    sheet = load_workbook(io.BytesIO(built.final.xlsx))["Nhiệm vụ"]
    assert any(MARKUP in str(cell.value) for cell in sheet["E"])
