"""The evaluation report as a Decree 30 DOCX, on the shared layout of :mod:`documents.decree30`."""

from __future__ import annotations

import datetime as dt

from documents import decree30
from documents.evaluation_content import Charts, Content, Heading, Para, TableBlock


def build_evaluation_docx(
    content: Content,
    charts: dict[str, bytes],
    registry_document: dict,
    *,
    draft_note: str | None,
    year: int,
    number: str | None = None,
    signer: str | None = None,
    day: dt.date | None = None,
) -> bytes:
    """A4, Times New Roman, the header blocks, body, charts, 'Nơi nhận:' and signature."""
    doc = decree30.new_document()
    if draft_note:
        decree30.add_draft_mark(doc, draft_note)
    decree30.add_header(
        doc, decree30.Header.from_registry(registry_document, number=number, day=day, year=year)
    )
    decree30.add_title(doc, content.title, content.summary)
    for block in content.blocks:
        if isinstance(block, Heading):
            decree30.add_heading(doc, block.text, block.level)
        elif isinstance(block, Para):
            if block.bullet:
                decree30.add_bullet(doc, block.text, lead=block.lead)
            else:
                decree30.add_paragraph(doc, block.text, lead=block.lead)
        elif isinstance(block, TableBlock):
            decree30.add_fitted_table(
                doc, block.columns, block.rows, align=block.align, caption=block.caption
            )
        elif isinstance(block, Charts):
            pngs = [charts[k] for k in block.keys if k in charts]
            if block.grid:
                decree30.add_picture_grid(doc, pngs, columns=2)  # labels of 8 pt and more
                if block.caption:
                    decree30.add_paragraph(doc, block.caption, italic=True)
            else:
                for png in pngs:
                    decree30.add_picture(doc, png, width_cm=block.width_cm, caption=block.caption)
    signer_block = registry_document["signer"]
    decree30.add_closing(
        doc,
        registry_document["recipients"],
        decree30.Signature.from_registry(signer_block, name=signer),
    )
    return decree30.to_bytes(doc)
