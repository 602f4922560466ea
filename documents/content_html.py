"""Any report's :class:`~documents.content.Content` as HTML, through one autoescaped template
(``templates/report/body.html.j2``): what an agency typed shows as typed, its line breaks kept.

:func:`report_body` is the report alone (stored with the revision, embedded in the email to the
ministry); :func:`report_page` the standalone page with its charts inline, for the browser and
the Prefect UI.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import asdict

from documents.content import Block, Charts, Content, Heading, PageBreak, Para, TableBlock
from documents.templating import render


def _block(block: Block) -> dict:
    if isinstance(block, TableBlock):
        return {
            "type": "table",
            "columns": block.columns,
            "rows": block.text_rows(),
            "align": block.align or ["left"] * len(block.columns),
            "caption": block.caption,
        }
    kind = {Heading: "heading", Para: "para", Charts: "charts", PageBreak: "break"}[type(block)]
    return {"type": kind, **asdict(block)}


def template_blocks(blocks: Sequence[Block]) -> list[dict]:
    """The blocks as the template reads them, consecutive bullets gathered into one list."""
    out: list[dict] = []
    for block in blocks:
        item = _block(block)
        if item["type"] == "para" and item["bullet"]:
            if out and out[-1]["type"] == "list":
                out[-1]["items"].append(item)
            else:
                out.append({"type": "list", "items": [item]})
        else:
            out.append(item)
    return out


def _context(content: Content, charts: Mapping[str, bytes]) -> dict:
    return {
        "content": content,
        "blocks": template_blocks(content.blocks),
        "appendix": template_blocks(content.appendix) if charts else [],
        "images": {k: base64.b64encode(v).decode() for k, v in charts.items()},
        "names": content.chart_names,
    }


def report_body(content: Content) -> str:
    """The report as an HTML fragment: letterhead, title, body, 'Nơi nhận:' and signature
    (no charts: the email to the ministry and the revision's stored HTML)."""
    return render("report/body.html.j2", **_context(content, {}))


def report_page(content: Content, charts: Mapping[str, bytes]) -> str:
    """A standalone page, charts inline as data: URIs, for the browser and the Prefect UI."""
    return render("report/page.html.j2", **_context(content, charts))
