"""The Excel form as LibreOffice prints it: every sheet within the page's width (the "Đề xuất"
sheet was cut at the right edge), every text whole."""

from __future__ import annotations

import subprocess

from PIL import Image

from tests.printed import lines, to_pdf
from tests.test_portal import path_of, portal  # noqa: F401


def test_every_sheet_of_the_form_prints_within_the_page_width(portal, tmp_path):  # noqa: F811
    source = tmp_path / "form.xlsx"
    source.write_bytes(portal.get(f"{path_of()}/bieu-mau.xlsx").content)
    pdf = to_pdf(source)
    text = " ".join(line.text for line in lines(pdf))
    assert "Nhập vào ô nền vàng bên dưới; không có thì để trống." in text
    assert "Kiến nghị, đề xuất" in text  # the task sheet's last column
    subprocess.run(["pdftoppm", "-png", "-r", "30", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 4
    for page in pages:
        image = Image.open(page).convert("L")
        width, height = image.size
        edge = image.crop((width - 4, 0, width, height))  # the last pixels of the right margin
        assert min(edge.getdata()) > 240, f"{page.name}: something reaches the right edge"
