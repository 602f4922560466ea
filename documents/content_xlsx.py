"""A report's annex as an XLSX workbook: one sheet per table of ``Content.annex``, each with the
columns its :class:`~documents.content.AnnexSheet` names, above it the report it goes with."""

from __future__ import annotations

from documents.annex_table import annex_bytes, table_sheet
from documents.content import Content


def content_xlsx(content: Content) -> bytes:
    """The annex workbook, dated the day of the report (a draft: a fixed day: same bytes)."""
    sheets = [
        table_sheet(
            table.annex.name,
            table.annex.heading,
            content.annex_reference,
            table.annex.columns,
            table.cells(table.annex.pick),
        )
        for table in content.annex
        if table.annex is not None
    ]
    day = content.header.day if content.header and not content.draft_note else None
    return annex_bytes(sheets, title=content.annex_title, created=day)
