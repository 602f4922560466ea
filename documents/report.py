"""The cycle's report as Markdown and HTML, the standalone HTML page with its charts, and the
Markdown shown as a Prefect artifact (the Decree 30 DOCX: ``documents.annual_docx``)."""

from __future__ import annotations

import base64
import datetime as dt
from html import escape
from typing import TYPE_CHECKING

import markdown

from documents.decree30 import issuer_name
from documents.progress_method import method_paragraphs
from documents.templating import render
from documents.vietnamese import format_percent

if TYPE_CHECKING:  # matplotlib is imported only where charts are drawn
    from documents.charts import ReportCharts

TREND_TEXT = {"up": "Tăng", "down": "Giảm", "same": "Không đổi"}


def trend_text(trend: str | None) -> str:
    """'Tăng', 'Giảm', 'Không đổi', or '—' without both years' values."""
    return TREND_TEXT.get(trend or "", "—")


def reported_share(data: dict) -> str:
    """'82,6%' of the agencies asked that reported (on time or late); '—' when none was asked."""
    if not data["requested"]:
        return "—"
    return format_percent(round((data["on_time"] + data["late"]) * 100 / data["requested"], 1))


def render_report(
    data: dict,
    registry_document: dict,
    *,
    draft: bool,
    number: str | None = None,
    signer: str | None = None,
    report_date: dt.date | None = None,
) -> tuple[str, str]:
    """(markdown, html) of the report for ``data`` (a stored consolidation)."""
    signer_block = registry_document["signer"]
    text = render(
        "report/annual.md.j2",
        data=data,
        header=registry_document,
        draft=draft,
        number=number,
        signer_block=signer_block,
        signer_name=signer or signer_block["name"],
        report_date=report_date,
        trend_text=trend_text,
        issuer=issuer_name(registry_document),
        reported_share=reported_share(data),
        method=method_paragraphs(data["baseline_year"], data["target_year"])
        if data.get("baseline_year")
        else [],
    )
    html = markdown.markdown(text, extensions=["tables"], output_format="html")
    return text, html


PAGE_STYLE = """
body { font-family: "Times New Roman", serif; font-size: 14pt; max-width: 60em;
       margin: 2em auto; padding: 0 1em; line-height: 1.4; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 11pt; }
th, td { border: 1px solid #777; padding: 0.2em 0.4em; vertical-align: top; }
h1 { text-align: center; font-size: 15pt; margin-bottom: 0; }
h2 { font-size: 14pt; } h3, h4 { font-size: 13pt; }
figure { display: inline-block; margin: 0.4em; text-align: center; }
figure img { max-width: 100%; } .charts figure { width: 46%; }
figcaption { font-size: 10pt; font-style: italic; }
body > table:first-of-type, body > table:last-of-type { width: 100%; font-size: 13pt; }
body > table:first-of-type :is(th, td), body > table:last-of-type :is(th, td) {
  border: none; }
body > table:first-of-type :is(th, td) { text-align: center; }
h1 + p { text-align: center; }
"""


def _img(png: bytes, alt: str) -> str:
    return f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}" alt="{alt}">'


def report_page(body_html: str, charts: ReportCharts | None, *, title: str) -> str:
    """A standalone HTML page: the report's HTML, then its charts embedded as base64 PNG."""
    parts = [
        f'<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{PAGE_STYLE}</style>\n</head>\n<body>\n",
        body_html,
    ]
    if charts is not None:
        parts.append('\n<section class="charts">\n<h2>PHỤ LỤC: BIỂU ĐỒ</h2>\n')
        caption = "Tiến độ thực hiện các chỉ tiêu"
        parts.append(f"<figure>{_img(charts.overview, caption)}<figcaption>{caption}</figcaption>")
        parts.append("</figure>\n")
        for name, png in charts.indicators:
            parts.append(
                f"<figure>{_img(png, escape(name))}<figcaption>{escape(name)}</figcaption>"
                "</figure>\n"
            )
        parts.append("</section>\n")
    parts.append("</body>\n</html>\n")
    return "".join(parts)


def artifact_markdown(
    markdown_text: str, charts: ReportCharts | None, files: dict[str, str]
) -> str:
    """The report's Markdown for a Prefect artifact: the overview chart and where the files are
    first (the per-indicator charts are in the HTML file, too heavy for an artifact)."""
    lines = []
    if files:
        lines.append("**Tệp báo cáo:** " + " · ".join(f"{k}: `{v}`" for k, v in files.items()))
    if charts is not None:
        encoded = base64.b64encode(charts.overview).decode()
        lines.append(f"![Tiến độ thực hiện các chỉ tiêu](data:image/png;base64,{encoded})")
    return "\n\n".join([*lines, markdown_text])
