"""The evaluation report in its three forms (DOCX, XLSX, HTML) and as Markdown for the UI."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import asdict
from pathlib import Path

from documents.charts import indicator_chart, status_chart
from documents.decree30 import issuer_name
from documents.evaluation_content import (
    Charts,
    Content,
    Heading,
    Para,
    TableBlock,
    build_content,
)
from documents.evaluation_docx import build_evaluation_docx
from documents.evaluation_xlsx import build_evaluation_xlsx
from documents.labels import Progress
from documents.markdown_text import markdown_text
from documents.report_data import Evaluation
from documents.templating import render
from documents.vietnamese import format_date

BLOCK_TYPES = {Heading: "heading", Para: "para", TableBlock: "table", Charts: "charts"}
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
    """A standalone page (charts inline as data: URIs) for the browser and the Prefect UI."""
    images = {k: base64.b64encode(v).decode() for k, v in charts.items()}
    blocks = [{"type": BLOCK_TYPES[type(b)], **asdict(b)} for b in content.blocks]
    return render(
        "report/evaluation.html.j2",
        content=content,
        blocks=blocks,
        images=images,
        draft=draft_note(evaluation) if draft else None,
        province=evaluation.province,
        names={i.code: f"{i.number}. {i.name}" for i in evaluation.indicators},  # alt texts
    )


def evaluation_markdown(evaluation: Evaluation, content: Content | None = None) -> str:
    """The report's text and tables as Markdown (the Prefect artifact; charts left out)."""
    content = content or build_content(evaluation)
    lines = [
        f"# {content.title}: {content.summary}",
        "",
        f"*DỰ THẢO - {draft_note(evaluation)}*",
        "",
    ]
    for block in content.blocks:
        if isinstance(block, Heading):
            lines += ["#" * (block.level + 1) + " " + block.text, ""]
        elif isinstance(block, Para):
            lead = f"**{block.lead}:** " if block.lead else ""
            lines += [("- " if block.bullet else "") + lead + markdown_text(block.text), ""]
        elif isinstance(block, TableBlock):
            cells = [[markdown_text(c, one_line=True) for c in r] for r in block.rows]
            lines += [f"*{block.caption}*", ""] if block.caption else []
            lines += ["| " + " | ".join(block.columns) + " |"]
            lines += ["|" + "---|" * len(block.columns)]
            lines += ["| " + " | ".join(row) + " |" for row in cells] + [""]
    return "\n".join(lines)


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
    content = build_content(evaluation)
    charts = evaluation_charts(evaluation)
    folder.mkdir(parents=True, exist_ok=True)
    paths = document_paths(evaluation, folder)
    paths["docx"].write_bytes(
        build_evaluation_docx(
            content,
            charts,
            registry_document,
            draft_note=draft_note(evaluation) if draft else None,
            year=evaluation.year,
            number=number,
            signer=signer,
            day=day,
        )
    )
    if draft or not (number and day):
        reference = f"Kèm theo dự thảo báo cáo {evaluation.review} năm {evaluation.year}"
    else:
        reference = (
            f"Kèm theo Báo cáo số {number} ngày {format_date(day)} của "
            f"{issuer_name(registry_document)}"
        )
    paths["xlsx"].write_bytes(
        build_evaluation_xlsx(evaluation, reference=reference, created=None if draft else day)
    )
    paths["html"].write_text(
        evaluation_html(content, charts, evaluation, draft=draft), encoding="utf-8"
    )
    return paths
