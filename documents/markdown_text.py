"""Text typed by agencies (results, difficulties, proposals) placed in Markdown, the Prefect
artifacts', so that it shows as typed, never as markup: the UI renders Markdown and passes
raw HTML through, so an agency's ``<script>`` or ``[link](javascript:...)`` would otherwise run
in the coordinator's browser. (The report's HTML is autoescaped Jinja: nothing escaped by hand.)
"""

from __future__ import annotations

import re

ENTITY = re.compile(r"&(?=#?\w+;)")  # "&lt;" typed by an agency stays those four characters
INLINE = "\\`*_[]|"  # emphasis, code, links, table cells
LINE_START = "-+#>"  # a list, heading or quote if it began a line (and "1." a numbered list)
INLINE_MARKS = re.compile(f"([{re.escape(INLINE)}])")
BLOCK_MARK = re.compile(f"^([{re.escape(LINE_START)}])")
NUMBERED = re.compile(r"^(\d+)\.")  # a numbered list
HARD_BREAK = "  \n  "  # two spaces: a line break; the indent keeps it in the same list item


def markdown_text(value: object, *, one_line: bool = False) -> str:
    """``value`` as Markdown that shows it as typed: ``<`` written ``&lt;`` (no HTML), marks
    backslash-escaped, each of its lines kept by a hard break (``one_line``: joined by spaces,
    for a table cell)."""
    text = ENTITY.sub("&amp;", str(value)).replace("<", "&lt;")
    lines = [line.strip() for line in INLINE_MARKS.sub(r"\\\1", text).splitlines()]
    lines = [NUMBERED.sub(r"\1\\.", BLOCK_MARK.sub(r"\\\1", line)) for line in lines if line]
    return (" " if one_line else HARD_BREAK).join(lines)
