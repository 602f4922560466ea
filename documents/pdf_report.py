"""The report as a PDF: LibreOffice converts the Decree 30 DOCX, poppler finds its signature block.

LibreOffice (``soffice --headless``) writes PDF/A-2b when asked (fonts embedded, which PDF/A
requires; Liberation Serif stands in for Times New Roman with the same metrics). Each
conversion gets its own LibreOffice profile folder, so several workers convert at once
without sharing a profile (a shared one makes the second ``soffice`` exit without output).

The visible signature goes where a signer signs on paper: in the signature block, between the
title ("PHÓ CHỦ TỊCH") and the signer's name. :func:`signature_place` finds the name's line
with ``pdftotext -bbox-layout`` (poppler), searching from the last page back (an appendix of
charts may follow the signature), and the lines of the block above it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from html import unescape
from pathlib import Path

# Export filter options (LibreOffice 7.4+ takes them as JSON): PDF/A-2b, lossless images.
PDFA_OPTIONS = {
    "SelectPdfVersion": {"type": "long", "value": "2"},
    "UseLosslessCompression": {"type": "boolean", "value": "true"},
}
LINE = re.compile(
    r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</line>', re.S
)
WORD = re.compile(r"<word [^>]*>(.*?)</word>")
PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
MIN_HEIGHT_PT = 40.0  # a visible signature lower than this is unreadable
HALF_WIDTH_PT = 115.0  # the signature is 230 pt wide, centred on the signer's name


class ConversionError(RuntimeError):
    """LibreOffice or poppler failed on the report; the message says which and why."""


def docx_to_pdf(
    docx: bytes, *, soffice: str = "soffice", pdfa: bool = True, timeout: float = 180
) -> bytes:
    """The PDF LibreOffice makes of ``docx`` (PDF/A-2b unless ``pdfa`` is False)."""
    program = shutil.which(soffice)
    if program is None:
        raise ConversionError(
            f"{soffice!r} not found: install LibreOffice (Debian libreoffice-writer-nogui) "
            "or set R42_SIGNING__SOFFICE"
        )
    target = "pdf:writer_pdf_Export:" + json.dumps(PDFA_OPTIONS) if pdfa else "pdf"
    with tempfile.TemporaryDirectory(prefix="r42-pdf-") as folder:
        work = Path(folder)
        source = work / "report.docx"
        source.write_bytes(docx)
        command = [
            program,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            str(work),
            str(source),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ConversionError(f"LibreOffice took over {timeout:g} s to convert") from None
        result = work / "report.pdf"
        if done.returncode != 0 or not result.exists():
            output = (done.stderr or done.stdout).strip()[-500:]
            raise ConversionError(f"LibreOffice did not convert the report: {output}")
        return result.read_bytes()


@dataclass(frozen=True)
class Line:
    """A line of text on a page: its words and its box (points, origin top left, as poppler)."""

    text: str
    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True)
class SignaturePlace:
    """Where the visible signature goes: the page (from 0) and the box (PDF user space, points,
    origin bottom left: x1, y1, x2, y2)."""

    page: int
    box: tuple[int, int, int, int]


def page_lines(pdf: bytes) -> list[tuple[float, float, list[Line]]]:
    """Every page's width, height and lines of text, from ``pdftotext -bbox-layout``."""
    program = shutil.which("pdftotext")
    if program is None:
        raise ConversionError("pdftotext not found: install poppler (Debian poppler-utils)")
    done = subprocess.run(
        [program, "-bbox-layout", "-", "-"], input=pdf, capture_output=True, timeout=120
    )
    if done.returncode != 0:
        raise ConversionError(f"pdftotext failed: {done.stderr.decode(errors='replace')[-300:]}")
    pages = []
    for width, height, body in PAGE.findall(done.stdout.decode("utf-8")):
        lines = [
            Line(" ".join(unescape(w) for w in WORD.findall(words)), *map(float, box))
            for *box, words in LINE.findall(body)
        ]
        pages.append((float(width), float(height), lines))
    return pages


def _squashed(text: str) -> str:
    return " ".join(text.split()).casefold()


def signature_place(pdf: bytes, signer_name: str) -> SignaturePlace:
    """The box between the signature block's title and the signer's name, on the last page that
    has the name alone on a line in the right half; raises when no page has."""
    wanted = _squashed(signer_name)
    pages = page_lines(pdf)
    for number in range(len(pages) - 1, -1, -1):
        width, height, lines = pages[number]
        names = [
            line
            for line in lines
            if _squashed(line.text) == wanted and (line.left + line.right) / 2 > width / 2
        ]
        if not names:
            continue
        name = names[-1]
        centre = (name.left + name.right) / 2
        above = [
            line
            for line in lines
            if line.bottom <= name.top and line.left <= centre <= line.right and line.text.strip()
        ]
        block_top = max((line.bottom for line in above), default=name.top - 90)
        left, right = centre - HALF_WIDTH_PT, min(centre + HALF_WIDTH_PT, width - 10)
        top, bottom = block_top + 2, name.top - 2
        if bottom - top < MIN_HEIGHT_PT:  # too little room: overlap the lines around it
            middle = (top + bottom) / 2
            top, bottom = middle - MIN_HEIGHT_PT / 2, middle + MIN_HEIGHT_PT / 2
        box = (round(left), round(height - bottom), round(right), round(height - top))
        return SignaturePlace(number, box)
    raise ConversionError(
        f"no page of the PDF has the signer's name {signer_name!r} in a signature block"
    )
