"""Documents as they print: LibreOffice converts a DOCX or XLSX to PDF, poppler reads back its
words with their boxes, its fonts and its pixels (all installed by `make test`)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from html import unescape
from pathlib import Path

from PIL import Image

from tests.servers import require_programs

# pdftotext's word box of a LibreOffice PDF: 1.295 x the font size for Liberation Serif
BOX_PER_POINT = 1.295


@dataclass(frozen=True)
class Word:
    page: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def size_pt(self) -> float:
        """The font size the word was set in, from its box height."""
        return (self.y1 - self.y0) / BOX_PER_POINT


@dataclass(frozen=True)
class Line:
    page: int
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def to_pdf(source: Path) -> Path:
    """``source`` (DOCX or XLSX) converted by LibreOffice headless, next to it."""
    require_programs("soffice", "pdftotext", "pdffonts", "pdftoppm")
    profile = source.parent / "lo-profile"
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
         "--convert-to", "pdf", "--outdir", str(source.parent), str(source)],
        check=True, capture_output=True, timeout=240,
    )  # fmt: skip
    pdf = source.with_suffix(".pdf")
    assert pdf.exists(), f"LibreOffice did not convert {source.name}"
    return pdf


WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)


def lines(pdf: Path) -> list[Line]:
    """Every line of text, page by page, as poppler groups them (one per cell line)."""
    out = subprocess.run(
        ["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    found: list[Line] = []
    for number, page in enumerate(out.split("<page ")[1:], start=1):
        for line in page.split("<line")[1:]:
            words = tuple(
                Word(number, unescape(m[4]), *(float(v) for v in m[:4]))
                for m in WORD.findall(line.split("</line>")[0])
            )
            if words:
                found.append(Line(number, words))
    return found


def fonts(pdf: Path) -> set[str]:
    """The names of the fonts the PDF uses (subset prefixes removed)."""
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    names = [row.split()[0] for row in out.stdout.splitlines()[2:] if row.strip()]
    return {name.split("+", 1)[-1] for name in names}


def page_image(pdf: Path, page: int, dpi: int = 144) -> Image.Image:
    stem = pdf.parent / f"{pdf.stem}-page"
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", "-f", str(page), "-l", str(page), "-singlefile",
         str(pdf), str(stem)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return Image.open(f"{stem}.png").convert("L")


def horizontal_rules(image: Image.Image, dpi: int, *, min_pt: float = 20) -> list[tuple]:
    """(y, x0, x1) in points of each dark horizontal run at least ``min_pt`` long."""
    scale = 72 / dpi
    pixels = image.load()
    width, height = image.size
    found = []
    for y in range(height):
        run = 0
        for x in range(width + 1):
            dark = x < width and pixels[x, y] < 100
            if dark:
                run += 1
            elif run:
                if run * scale >= min_pt:
                    found.append((y * scale, (x - run) * scale, x * scale))
                run = 0
    return found


def overlapping(words: list[Word]) -> list[tuple[Word, Word]]:
    """Pairs of words on one page whose boxes overlap (text drawn over text)."""
    pairs = []
    ordered = sorted(words, key=lambda w: (w.page, w.y0))
    for n, first in enumerate(ordered):
        for second in ordered[n + 1 :]:
            if second.page != first.page or second.y0 >= first.y1 - 0.5:
                break
            across = min(first.x1, second.x1) - max(first.x0, second.x0)
            down = min(first.y1, second.y1) - max(first.y0, second.y0)
            height = min(first.y1 - first.y0, second.y1 - second.y0)
            if across > 1 and down > 0.3 * height:  # wrapped lines touch; overprints cover
                pairs.append((first, second))
    return pairs
