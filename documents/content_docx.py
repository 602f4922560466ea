"""Any report's :class:`~documents.content.Content` as a Decree 30 DOCX, on the layout of
:mod:`documents.decree30`: the yearly report and the reviews alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from docx.document import Document as DocxDocument

from documents import decree30
from documents.content import Block, Charts, Content, Heading, PageBreak, Para, TableBlock


def _add(doc: DocxDocument, block: Block, charts: Mapping[str, bytes]) -> None:
    if isinstance(block, Heading):
        if block.centred:
            decree30.add_heading_centred(doc, block.text)
        else:
            decree30.add_heading(doc, block.text, block.level)
    elif isinstance(block, Para):
        if block.centred:
            decree30.add_heading_centred(doc, block.text, bold=False, italic=block.italic)
        elif block.bullet:
            decree30.add_bullet(doc, block.text, lead=block.lead)
        else:
            decree30.add_paragraph(doc, block.text, lead=block.lead, italic=block.italic)
    elif isinstance(block, TableBlock):
        if block.widths_cm:
            decree30.add_table(
                doc, block.columns, block.text_rows(), widths_cm=block.widths_cm,
                align=block.align, caption=block.caption,
            )  # fmt: skip
        else:
            decree30.add_fitted_table(
                doc, block.columns, block.text_rows(), align=block.align, caption=block.caption
            )
    elif isinstance(block, Charts):
        pngs = [charts[k] for k in block.keys if k in charts]
        if block.grid:
            if pngs:
                decree30.add_picture_grid(doc, pngs, columns=2)  # labels of 8 pt and more
            if block.caption:
                decree30.add_paragraph(doc, block.caption, italic=True)
        else:
            for png in pngs:
                decree30.add_picture(doc, png, width_cm=block.width_cm, caption=block.caption)
    elif isinstance(block, PageBreak):
        decree30.add_page_break(doc)


def add_blocks(doc: DocxDocument, blocks: Sequence[Block], charts: Mapping[str, bytes]) -> None:
    for block in blocks:
        _add(doc, block, charts)


def content_docx(content: Content, charts: Mapping[str, bytes]) -> bytes:
    """A4, Times New Roman: the header blocks, title, body, charts, 'Nơi nhận:' and signature,
    then the appendix (chart pages). A draft (``content.draft_note``) carries no number, date
    or signer's name. ``content`` must be framed (:meth:`Content.frame`)."""
    if content.header is None or content.signature is None:
        raise ValueError("the content has no letterhead: call Content.frame first")
    doc = decree30.new_document()
    decree30.set_properties(
        doc, title=content.summary, author=content.issuer, day=content.header.day
    )
    if content.draft_note:
        decree30.add_draft_mark(doc, content.draft_note)
    decree30.add_header(doc, content.header)
    decree30.add_title(doc, content.title, content.summary)
    add_blocks(doc, content.blocks, charts)
    decree30.add_closing(doc, content.recipients, content.signature)
    add_blocks(doc, content.appendix, charts)
    return decree30.to_bytes(doc)
