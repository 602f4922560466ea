"""A report's HTML as the ministry's email shows it: its tables ruled (email clients drop a
page's stylesheet, so the rules go on each cell), and as readable plain text for the email's
text part (no Markdown marks: headings on their own lines, lists, each table row as a line and its
values indented under it).

The tables before the title (issuing body | national motto) and after the closing rule
(recipients | signature) lay out the page and stay unruled; in plain text each of their columns
is read top to bottom, as on paper.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser

CELL_STYLE = "border: 1px solid #777; padding: 2px 6px; vertical-align: top;"
HEAD_STYLE = CELL_STYLE + " background: #f0f0f0; font-weight: bold;"
TABLE_STYLE = "border-collapse: collapse; margin: 8px 0; font-size: 14px;"
VOID = {"br", "hr", "img", "meta", "link", "input", "col", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: list[tuple[str, str | None]] = field(default_factory=list)
    children: list[Node | str] = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("root")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, attrs)
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def _layout_tables(root: Node) -> set[int]:
    """ids of the layout tables: before the first heading, or after a horizontal rule."""
    layout: set[int] = set()
    seen_heading = seen_rule = False
    for child in root.children:
        if not isinstance(child, Node):
            continue
        if child.tag in ("h1", "h2"):
            seen_heading = True
        elif child.tag == "hr":
            seen_rule = True
        elif child.tag == "table" and (not seen_heading or seen_rule):
            layout.add(id(child))
    return layout


def _inline_text(node: Node | str, *, keep_space: bool = False) -> str:
    if isinstance(node, str):
        return node if keep_space else re.sub(r"\s+", " ", node)
    if node.tag == "br":
        return "\n"
    keep = keep_space or node.tag == "pre"
    return "".join(_inline_text(c, keep_space=keep) for c in node.children)


def _cells(row: Node) -> list[str]:
    return [
        "\n".join(line.strip() for line in _inline_text(c).split("\n")).strip()
        for c in row.children
        if isinstance(c, Node) and c.tag in ("th", "td")
    ]


def _rows(table: Node) -> list[list[str]]:
    rows: list[list[str]] = []
    for child in table.children:
        if isinstance(child, Node):
            if child.tag == "tr":
                rows.append(_cells(child))
            elif child.tag in ("thead", "tbody", "tfoot"):
                rows += [_cells(r) for r in child.children if isinstance(r, Node) and r.tag == "tr"]
    return rows


def _wrap(text: str, *, first: str = "", rest: str = "") -> str:
    """``text`` with its line breaks kept, each line indented; lines are not folded (mail
    readers fold them to their window, and text an agency typed stays whole)."""
    lines = [line.strip() for line in text.split("\n")]
    return "\n".join((first if n == 0 else rest) + line for n, line in enumerate(lines))


def _table_text(table: Node, layout: bool) -> str:
    rows = _rows(table)
    if not rows:
        return ""
    if layout:  # each column top to bottom, as the page is read
        columns = max(len(r) for r in rows)
        blocks = [[r[c] for r in rows if c < len(r) and r[c]] for c in range(columns)]
        return "\n\n".join("\n".join(block) for block in blocks if block)
    header, body = rows[0], rows[1:]
    numbered = bool(header) and header[0] == "STT"
    lines = []
    for row in body:
        lead = f"{row[0]}. {row[1]}" if numbered and len(row) > 1 else row[0]
        rest = list(zip(header[2 if numbered else 1 :], row[2 if numbered else 1 :], strict=False))
        details = "; ".join(f"{h}: {v or '—'}" for h, v in rest)
        lines.append(_wrap(lead, first="", rest="   "))
        if details:
            lines.append(_wrap(details + ".", first="   ", rest="   "))
    return "\n".join(lines)


def plain_text(html: str) -> str:
    """The report's HTML as plain text an official reads in a text-only mail client."""
    root = parse(html)
    layout = _layout_tables(root)
    blocks: list[str] = []

    def walk(node: Node) -> None:
        for child in node.children:
            if isinstance(child, str):
                if child.strip():
                    blocks.append(_wrap(_inline_text(child)))
                continue
            tag = child.tag
            if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                text = _inline_text(child).strip()
                blocks.append(text.upper() if tag == "h1" else text)
            elif tag == "p":
                text = _inline_text(child).strip()
                if text:
                    blocks.append(_wrap(text))
            elif tag in ("ul", "ol"):
                items = [c for c in child.children if isinstance(c, Node) and c.tag == "li"]
                blocks.append(
                    "\n".join(_wrap(_inline_text(i).strip(), first="- ", rest="  ") for i in items)
                )
            elif tag == "table":
                blocks.append(_table_text(child, id(child) in layout))
            elif tag == "pre":
                blocks.append(_inline_text(child, keep_space=True).strip("\n"))
            elif tag == "hr":
                continue
            else:
                walk(child)

    walk(root)
    return "\n\n".join(b for b in blocks if b.strip()) + "\n"


def ruled_tables(html: str) -> str:
    """The report's HTML with each data table ruled and its header row marked, by inline
    styles that email clients keep; the layout tables (header and signature blocks) as they
    were."""
    root = parse(html)
    layout = _layout_tables(root)
    styled = {id(n) for n in root.children if isinstance(n, Node) and n.tag == "table"} - layout

    def render(node: Node | str, table: bool) -> str:
        if isinstance(node, str):
            return escape(node, quote=False)
        attrs = dict(node.attrs)
        if table and node.tag in ("table", "th", "td"):
            extra = {"table": TABLE_STYLE, "th": HEAD_STYLE, "td": CELL_STYLE}[node.tag]
            if attrs.get("class") in ("right", "center"):  # the page's alignment classes
                extra += f" text-align: {attrs['class']};"
            style = extra + (" " + attrs["style"] if attrs.get("style") else "")
            attrs = {"style": style} | {k: v for k, v in attrs.items() if k != "style"}
        if node.tag == "table" and table:
            attrs.setdefault("border", "1")
        rendered = "".join(f' {k}="{escape(v or "")}"' for k, v in attrs.items())
        inner = "".join(render(c, table) for c in node.children)
        if node.tag == "root":
            return inner
        if node.tag in VOID:
            return f"<{node.tag}{rendered}>"
        return f"<{node.tag}{rendered}>{inner}</{node.tag}>"

    return "".join(
        render(c, isinstance(c, Node) and id(c) in styled) for c in root.children
    )
