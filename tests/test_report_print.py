"""The report and its annex as they print (LibreOffice to PDF, read back with poppler): issue
14's "readable on paper" - the rule under the motto, rows that do not overprint, type sizes,
tokens kept whole, charts legible."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from decimal import Decimal

import pytest
from docx import Document
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text
from PIL import Image

from documents import decree30
from documents.charts import LABEL_PT, OVERVIEW_LABEL_PT, indicator_figure
from documents.docx_tables import content_widths
from documents.docx_text import token_width_pt
from documents.chart_process import ChartProcess
from documents.content_docx import content_docx
from reporting.review_files import draw_evaluation_charts, review_content
from tests.printed import fonts, horizontal_rules, lines, overlapping, page_image, to_pdf
from tests.test_evaluation_content import evaluation

DPI = 144


@pytest.fixture(scope="module")
def yearly_pdf(built, tmp_path_factory):
    source = tmp_path_factory.mktemp("yearly") / "bao-cao.docx"
    source.write_bytes(built.final.docx)
    return to_pdf(source)


@pytest.fixture(scope="module")
def annex_pdf(built, tmp_path_factory):
    source = tmp_path_factory.mktemp("annex") / "phu-luc.xlsx"
    source.write_bytes(built.final.xlsx)
    return to_pdf(source)


def test_the_rule_under_the_motto_is_as_long_as_the_motto(yearly_pdf):
    first = [line for line in lines(yearly_pdf) if line.page == 1]
    motto = next(line for line in first if line.text == "Độc lập - Tự do - Hạnh phúc")
    start, end = motto.words[0].x0, motto.words[-1].x1
    below = [
        rule
        for rule in horizontal_rules(page_image(yearly_pdf, 1, DPI), DPI)
        if motto.words[0].y1 - 2 <= rule[0] <= motto.words[0].y1 + 8
    ]
    assert below, "no rule under the motto"
    _, x0, x1 = max(below, key=lambda rule: rule[2] - rule[1])
    assert abs((x1 - x0) - (end - start)) <= 0.03 * (end - start), (x0, x1, start, end)
    assert abs((x0 + x1) / 2 - (start + end) / 2) <= 3  # centred under it


def test_annex_rows_are_tall_enough_that_no_text_overprints(annex_pdf):
    words = [w for line in lines(annex_pdf) for w in line.words]
    assert any(w.text == "Người" for w in words)  # the long names are there
    assert not overlapping(words)


@pytest.fixture(scope="module")
def midterm(built, tmp_path_factory):
    """The mid-term report of tests/test_evaluation_content.py's indicators, approved."""
    e = evaluation()
    with ChartProcess() as charts:  # the reports' one chart path
        draw_evaluation_charts(charts, e)
        drawn = charts.result()
    images = {"overview": drawn.overview} | {
        i.code: png for i, (_, png) in zip(e.indicators, drawn.indicators, strict=True)
    }
    content = review_content(
        e, built.registry, number="12/BC-UBND", signer="Trần Thị Bình", day=dt.date(2025, 12, 8)
    )
    docx = tmp_path_factory.mktemp("midterm") / "so-ket-2025-12-BC-UBND.docx"
    docx.write_bytes(content_docx(content, images))
    return docx, to_pdf(docx)


def _words(pdf):  # type: ignore[no-untyped-def]
    return [w for line in lines(pdf) for w in line.words]


@pytest.mark.parametrize("which", ["yearly", "midterm"])
def test_one_font_and_nothing_under_11_pt(which, yearly_pdf, midterm):
    pdf = yearly_pdf if which == "yearly" else midterm[1]
    assert {name.split("-")[0] for name in fonts(pdf)} == {"LiberationSerif"}
    small = sorted({(w.page, w.text, round(w.size_pt, 1)) for w in _words(pdf) if w.size_pt < 10.8})
    assert not small, small[:10]
    sizes = {round(w.size_pt) for w in _words(pdf)}
    assert 14 in sizes and 11 in sizes  # body 14 pt, tables (and recipients) 11 pt


@pytest.mark.parametrize("which", ["yearly", "midterm"])
def test_no_token_is_broken_across_lines(which, yearly_pdf, midterm):
    pdf = yearly_pdf if which == "yearly" else midterm[1]
    found = lines(pdf)
    words = [w.text for line in found for w in line.words]
    assert "STT" in words and "ST" not in words and "T" not in words
    assert not [w for w in words if len(w) > 1 and w.endswith(("-", "\u2011", "/"))]
    assert not [w for w in words if len(w) > 1 and w.startswith("/")]
    assert not [w for w in words if re.search(r"\d\.\d{1,2}$", w)]  # 10.00 | 0
    assert all("42-NQ/TW" in w or "42\u2011NQ/TW" in w for w in words if "NQ/TW" in w)
    texts = [line.text.replace("\u00a0", " ") for line in found]
    ratios = [t for t in texts if "(R" in t]
    assert ratios and all(re.search(r"\(R = [−-]?\d+,\d\d\)", t) for t in ratios), ratios
    assert all(re.search(r"/10\.000 dân", t) for t in texts if "/10.000" in t)


def test_tables_too_wide_for_portrait_get_landscape_pages(yearly_pdf):
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "40", str(yearly_pdf)], capture_output=True, text=True
    ).stdout
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)
    landscape = [n for n, (w, h) in enumerate(sizes, start=1) if float(w) > float(h)]
    assert landscape and sizes[0][0] < sizes[0][1] and float(sizes[-1][0]) < float(sizes[-1][1])
    table_pages = {line.page for line in lines(yearly_pdf) if line.text.startswith("Tiến độ")}
    assert table_pages <= set(landscape)


@pytest.mark.parametrize("which", ["yearly", "midterm"])
def test_charts_print_labels_of_8_pt_or_more_two_to_a_row(which, built, midterm):
    document = Document(io.BytesIO(built.final.docx) if which == "yearly" else str(midterm[0]))
    pictures = list(document.inline_shapes)
    assert len(pictures) > 5
    for shape in pictures:
        embed = shape._inline.graphic.graphicData.pic.blipFill.blip.embed
        blob = document.part.related_parts[embed].blob
        image = Image.open(io.BytesIO(blob))
        figure_in = image.size[0] / image.info["dpi"][0]
        scale = shape.width.inches / figure_in
        smallest = OVERVIEW_LABEL_PT if image.size[0] >= 800 else LABEL_PT
        assert smallest * scale >= 8, (image.size, shape.width.inches, smallest * scale)
    grids = [t for t in document.tables if t._tbl.xpath(".//pic:pic")]
    assert grids and all(len(t.columns) <= 2 for t in grids)


def test_every_label_of_a_chart_is_set_at_the_chart_sizes():
    figure = indicator_figure(
        "27. Số căn hộ nhà ở xã hội hoàn thành", {2024: Decimal(420), 2025: Decimal(780)},
        unit="căn", target=Decimal(1000), baseline_year=2024, target_year=2030,
        rule="at_least",
    )  # fmt: skip
    FigureCanvasAgg(figure).draw()
    texts = [t for t in figure.findobj(Text) if t.get_text().strip() and t.get_visible()]
    assert len(texts) > 8 and min(t.get_fontsize() for t in texts) >= LABEL_PT


def test_column_widths_come_from_the_content():
    columns = ["STT", "Chỉ tiêu", "Năm 2025"]
    rows = [["1", "Số giường bệnh viện trên 10.000 dân " * 3, "30,2 giường/10.000 dân"]]
    widths = content_widths(columns, rows, size=11, total_cm=16.5, wide=1)
    assert sum(widths) == pytest.approx(16.5)
    stt = token_width_pt("STT", 11, bold=True) / 72 * 2.54
    unit = token_width_pt("giường/10.000\u00a0dân", 11) / 72 * 2.54
    assert widths[0] > stt and widths[2] > unit and widths[1] > widths[2]
    assert content_widths(columns * 4, [rows[0] * 4], size=11, total_cm=16.5) is None


def test_a_table_too_wide_even_for_landscape_still_renders(tmp_path):
    doc = decree30.new_document()
    columns = ["STT", "Chỉ tiêu"] + [str(y) for y in range(2024, 2035)]
    rows = [["1", "Số giường bệnh"] + ["30,2 giường/10.000 dân"] * 11]
    assert decree30.add_fitted_table(doc, columns, rows, align=["left"] * 13)
    table = Document(io.BytesIO(decree30.to_bytes(doc))).tables[0]
    assert sum(c.width.cm for c in table.columns) == pytest.approx(25.2, abs=0.05)
