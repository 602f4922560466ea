"""The report and its annex as they print (LibreOffice to PDF, read back with poppler): issue
14's "readable on paper" - the rule under the motto, rows that do not overprint, type sizes,
tokens kept whole, charts legible."""

from __future__ import annotations

import pytest

from tests.printed import horizontal_rules, lines, overlapping, page_image, to_pdf

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
