"""Text typed by agencies (results, difficulties, proposals) placed in the Markdown of a report
so that it shows as typed, never as markup.

The report's Markdown becomes its HTML page, the HTML stored with the revision and the HTML of
the email to the ministry (Python-Markdown passes raw HTML through): without this, an agency's
``<script>`` or ``[link](javascript:...)`` would run in the coordinator's browser or reach the
ministry.
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


ESCAPE = re.compile(f"\\\\([{re.escape(INLINE + LINE_START + '.')}])")  # what is escaped above


def as_typed(markdown: str) -> str:
    """A report's Markdown with what :func:`markdown_text` escaped shown as typed again: for a
    plain-text email, where nothing is interpreted (the rest of the Markdown stays)."""
    return ESCAPE.sub(r"\1", markdown).replace("&lt;", "<").replace("&amp;", "&")
