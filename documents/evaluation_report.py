"""The evaluation report in its three forms (DOCX, XLSX, HTML) and as Markdown for the UI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from documents.charts import indicator_chart, status_chart
from documents.content import Content
from documents.content_docx import content_docx
from documents.content_html import report_page
from documents.content_markdown import content_markdown
from documents.content_xlsx import content_xlsx
from documents.evaluation_content import build_content
from documents.labels import Progress
from documents.letterhead import issuer_name
from documents.report_data import Evaluation
from documents.vietnamese import format_date

# The letterhead of a page rendered without a registry version (a preview): the province's
# People's Committee, no number, no recipients.
PLAIN_FRAME = {
    "issuing_body": "Ủy ban nhân dân",
    "issuing_body_short": "UBND",
    "signer": {"title": "Chủ tịch"},
    "recipients": [],
}
FILE_STEM = {"midterm": "so-ket", "final": "tong-ket"}


def evaluation_charts(evaluation: Evaluation) -> dict[str, bytes]:
    """'overview' (indicators by status) and one chart per indicator code, as PNG bytes."""
    charts = {
        "overview": status_chart(
            {Progress(s): n for s, n in evaluation.status_counts.items()},
            title=f"Tiến độ {len(evaluation.indicators)} chỉ tiêu đến năm {evaluation.year}",
        )
    }
    for i in evaluation.indicators:
        charts[i.code] = indicator_chart(
            f"{i.number}. {i.name}",
            {int(y): v for y, v in i.series.items()},
            unit=i.unit,
            target=i.target_value,
            baseline_year=evaluation.baseline_year,
            target_year=evaluation.target_year,
            yes_no=i.kind == "yes_no",
            rule=i.rule,
        )
    return charts


def draft_note(evaluation: Evaluation) -> str:
    return f"Tổng hợp ngày {evaluation.as_of}"


def evaluation_html(
    content: Content, charts: dict[str, bytes], evaluation: Evaluation, *, draft: bool
) -> str:
    """A standalone page (charts inline as data: URIs) for the browser and the Prefect UI;
    ``content`` framed by :meth:`Content.frame` (or left with a blank letterhead)."""
    if content.header is None:
        plain = PLAIN_FRAME | {"province": evaluation.province, "place": evaluation.province}
        content.frame(plain, year=evaluation.year)
    content.draft_note = draft_note(evaluation) if draft else None
    content.chart_names = {i.code: f"{i.number}. {i.name}" for i in evaluation.indicators}
    return report_page(content, charts)


def evaluation_markdown(evaluation: Evaluation, content: Content | None = None) -> str:
    """The report's text and tables as Markdown (the Prefect artifact; charts left out)."""
    content = content or build_content(evaluation)
    content.draft_note = draft_note(evaluation)
    return content_markdown(content)


def document_paths(evaluation: Evaluation, folder: Path) -> dict[str, Path]:
    """so-ket-2025.docx/.xlsx/.html (tong-ket-2030.* for the final review) in ``folder``."""
    stem = folder / f"{FILE_STEM[evaluation.kind]}-{evaluation.year}"
    return {kind: stem.with_suffix(f".{kind}") for kind in ("docx", "xlsx", "html")}


def write_evaluation_documents(
    evaluation: Evaluation,
    registry_document: dict,
    folder: Path,
    *,
    draft: bool,
    number: str | None = None,
    signer: str | None = None,
    day: dt.date | None = None,
) -> dict[str, Path]:
    """Write so-ket-2025.docx/.xlsx/.html (tong-ket-2030.* for the final review) in ``folder``."""
    content = build_content(evaluation).frame(
        registry_document,
        year=evaluation.year,
        number=number,
        signer=signer,
        day=day,
    )
    content.draft_note = draft_note(evaluation) if draft else None
    charts = evaluation_charts(evaluation)
    folder.mkdir(parents=True, exist_ok=True)
    paths = document_paths(evaluation, folder)
    paths["docx"].write_bytes(content_docx(content, charts))
    if draft or not (number and day):
        reference = f"Kèm theo dự thảo báo cáo {evaluation.review} năm {evaluation.year}"
    else:
        reference = (
            f"Kèm theo Báo cáo số {number} ngày {format_date(day)} của "
            f"{issuer_name(registry_document)}"
        )
    content.annex_reference = reference
    paths["xlsx"].write_bytes(content_xlsx(content))
    paths["html"].write_text(
        evaluation_html(content, charts, evaluation, draft=draft), encoding="utf-8"
    )
    return paths
