"""Any report's :class:`~documents.content.Content` as Markdown, for a Prefect artifact only
(the files people read are the DOCX, the HTML and the annex). What an agency typed is escaped
by :func:`documents.markdown_text.markdown_text` so that it shows as typed; charts are left out
(the artifact adds the overview itself)."""

from __future__ import annotations

import base64

from documents.content import Content, Heading, Para, TableBlock
from documents.markdown_text import markdown_text

ALIGN_MARK = {"right": "---:", "center": ":---:"}


def _table(block: TableBlock) -> list[str]:
    cells = [[markdown_text(c, one_line=True) for c in row] for row in block.text_rows()]
    lines = [f"*{block.caption}*", ""] if block.caption else []
    marks = [ALIGN_MARK.get(a, "---") for a in block.align] or ["---"] * len(block.columns)
    lines += ["| " + " | ".join(block.columns) + " |", "|" + "|".join(marks) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in cells] + [""]


def content_markdown(content: Content) -> str:
    """The report's text and tables: title, number and date, the draft mark, the body, the
    recipients and the signature."""
    lines = [f"# {content.title.upper()}: {content.summary}", ""]
    if content.header is not None:
        lines += [f"{content.header.number_line} · *{content.header.place_date_line}*", ""]
    if content.draft_note:
        lines += [f"*DỰ THẢO - {content.draft_note}*", ""]
    for n, block in enumerate(content.blocks):
        if isinstance(block, Heading):
            text = block.text.upper() if block.level == 1 else block.text
            lines += ["#" * (block.level + 1) + " " + text, ""]
        elif isinstance(block, Para):
            lead = f"**{block.lead}:** " if block.lead else ""
            text = markdown_text(block.text)
            text = f"*{text}*" if block.italic else text
            lines.append(("- " if block.bullet else "") + lead + text)
            following = content.blocks[n + 1] if n + 1 < len(content.blocks) else None
            if not (block.bullet and isinstance(following, Para) and following.bullet):
                lines.append("")  # a list's items stay together: one tight list
        elif isinstance(block, TableBlock):
            lines += _table(block)
    return "\n".join(lines + _closing(content))


def _closing(content: Content) -> list[str]:
    """'Nơi nhận:' and its lines, then the signature block (no name in a draft)."""
    if content.signature is None:
        return []
    s = content.signature
    lines = ["---", "", "**Nơi nhận:**", ""] + [f"- {line}" for line in content.recipients]
    signature = [s.authority, s.deputy, s.title, s.name]
    return lines + ["", " / ".join(f"**{part}**" for part in signature if part), ""]


def artifact_markdown(markdown: str, overview: bytes | None, files: dict[str, str]) -> str:
    """The report's Markdown for a Prefect artifact: the overview chart and where the files are
    first (the per-indicator charts are in the HTML file, too heavy for an artifact)."""
    lines = []
    if files:
        lines.append("**Tệp báo cáo:** " + " · ".join(f"{k}: `{v}`" for k, v in files.items()))
    if overview is not None:
        encoded = base64.b64encode(overview).decode()
        lines.append(f"![Tiến độ thực hiện các chỉ tiêu](data:image/png;base64,{encoded})")
    return "\n\n".join([*lines, markdown])
