"""The cycle's report as Markdown and HTML (the Decree 30 DOCX is built elsewhere)."""

from __future__ import annotations

import datetime as dt

import markdown

from documents.templating import render


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
    )
    html = markdown.markdown(text, extensions=["tables"], output_format="html")
    return text, html
