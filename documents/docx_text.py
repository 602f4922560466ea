"""Text that must print whole: tokens kept on one line, and widths measured token by token.

A reader of a printed report should never see "42-" end a line and "NQ/TW" begin the next, a
unit cut as "giường/10.00" / "0 dân", or a minus apart from its number. Here:

- :func:`keep_whole` joins such tokens: a hyphen inside a symbol ("42-NQ/TW", "215/BC-UBND")
  becomes a non-breaking hyphen, the space inside a unit per number ("/10.000 dân") and after
  "R =" a no-break space. Liberation Serif has no glyph for U+2011, so the DOCX carries Word's
  own ``w:noBreakHyphen`` element (:func:`no_break_hyphens`), drawn with the font's hyphen.
- :func:`longest_token_pt` measures the widest piece a line may not break (a column narrower
  than it would be broken mid-word: "ST" / "T"), from per-letter advances (one font load).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from docx.oxml import OxmlElement
from docx.oxml.ns import qn

NO_BREAK_HYPHEN = "\u2011"
NBSP = "\u00a0"
_LETTER = r"0-9A-Za-zÀ-ỹĐđ"
_SYMBOL_HYPHEN = re.compile(rf"(?<=[{_LETTER}])-(?=[{_LETTER}])")  # 42-NQ/TW, BC-UBND
_PER_NUMBER = re.compile(r"(/\d{1,3}(?:\.\d{3})+) (?=\w)")  # giường/10.000 dân, not 5/23 cơ quan
_RATIO = re.compile(r"\bR = ")
_BREAKS = re.compile(r"[ \t\n]+")  # where a line may break (not at a no-break space)


def keep_whole(text: str) -> str:
    """``text`` with the tokens a line must not split joined (see the module's docstring)."""
    if "-" in text:
        text = _SYMBOL_HYPHEN.sub(NO_BREAK_HYPHEN, text)
    if "/" in text:
        text = _PER_NUMBER.sub(rf"\1{NBSP}", text)
    if "R = " in text:
        text = _RATIO.sub(f"R{NBSP}={NBSP}", text)
    return text


def no_break_hyphens(run) -> None:  # type: ignore[no-untyped-def]
    """Each U+2011 in the run's ``w:t`` elements as a ``w:noBreakHyphen`` between them."""
    for t in list(run.iterchildren(qn("w:t"))):
        text = t.text or ""
        if NO_BREAK_HYPHEN not in text:
            continue
        pieces = text.split(NO_BREAK_HYPHEN)
        position = run.index(t)
        run.remove(t)
        for n, piece in enumerate(pieces):
            if n:
                run.insert(position, OxmlElement("w:noBreakHyphen"))
                position += 1
            if piece:
                element = OxmlElement("w:t")
                element.text = piece
                element.set(qn("xml:space"), "preserve")
                run.insert(position, element)
                position += 1


@lru_cache(maxsize=2)
def _font(bold: bool):  # type: ignore[no-untyped-def]
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    path = font_manager.findfont(
        font_manager.FontProperties(
            family=["Times New Roman", "Liberation Serif", "DejaVu Serif"],
            weight="bold" if bold else "normal",
        )
    )
    font = FT2Font(path)
    font.set_size(100, 72)
    return font


@lru_cache(maxsize=4096)
def _advance(char: str, bold: bool) -> float:
    """Advance of one letter at 1 pt (a marked letter as its base letter)."""
    from matplotlib.ft2font import LoadFlags

    base = unicodedata.normalize("NFD", char.replace("Đ", "D").replace("đ", "d"))[0]
    if char in (NBSP, NO_BREAK_HYPHEN):
        base = " " if char == NBSP else "-"
    font = _font(bold)
    glyph = font.load_char(ord(base), flags=LoadFlags.NO_HINTING)
    return glyph.linearHoriAdvance / 65536 / 100


def token_width_pt(token: str, size: float, bold: bool = False) -> float:
    return sum(_advance(c, bold) for c in token) * size


def longest_token_pt(text: str, size: float, bold: bool = False) -> float:
    """The widest run of ``text`` no line may break inside, in points."""
    return max((token_width_pt(t, size, bold) for t in _BREAKS.split(text) if t), default=0.0)


def line_width_pt(text: str, size: float, bold: bool = False) -> float:
    """The widest of ``text``'s own lines, unbroken, in points."""
    return max((token_width_pt(t, size, bold) for t in text.split("\n")), default=0.0)
