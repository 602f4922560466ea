"""Worksheets written once and reused: most workbooks of a batch differ only by a name.

At the opening of a national cycle thousands of communes report the same rows, so their
forms' sheets differ only by the agency's name (or code). A sheet is written with a mark in
the place of that value, kept under a key holding everything else it shows, compressed in
pieces split at the mark; each workbook gets those pieces with its own value, escaped, between
them (``documents.xlsx_zip``).
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

from documents.xlsx_parts import Style, clean, escape
from documents.xlsx_writer import QUOTED_START, Sheet, render
from documents.xlsx_zip import Piece

MARK = "\ue000"  # a private-use character: stands for the value in a kept sheet


class SheetCache:
    """Written sheets by key (least recently used dropped first), for one style table."""

    def __init__(self, styles: Sequence[Style], size: int = 64):
        self.styles = tuple(styles)
        self.size = size
        self._sheets: OrderedDict[tuple, Sheet] = OrderedDict()
        self._lock = threading.Lock()  # the portal builds forms in worker threads

    def sheet(self, key: tuple, value: str, build: Callable[[str], Sheet]) -> Sheet:
        """``build(value)`` written, from the copy kept under ``key`` when there is one.

        A value the writer would treat specially (formula-like, padded, holding the mark) is
        written afresh.
        """
        plain = clean(value)
        if plain.startswith(QUOTED_START) or plain != plain.strip() or MARK in plain:
            return render(build(value), self.styles)
        with self._lock:
            kept = self._sheets.get(key)
            if kept is not None:
                self._sheets.move_to_end(key)
        if kept is None:
            kept = render(build(MARK), self.styles)
            assert kept.xml is not None
            segments = kept.xml.split(MARK)
            kept.pieces = tuple(Piece.of(segment.encode("utf-8")) for segment in segments)
            with self._lock:
                self._sheets[key] = kept
                while len(self._sheets) > self.size:
                    self._sheets.popitem(last=False)
        assert kept.pieces is not None
        own = Piece.stored(escape(plain).encode("utf-8"))
        pieces = [kept.pieces[0]]
        for piece in kept.pieces[1:]:
            pieces += [own, piece]
        return dataclasses.replace(kept, pieces=tuple(pieces))
