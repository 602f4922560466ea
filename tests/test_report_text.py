"""The report's HTML in the ministry's email: ruled data tables, and readable plain text."""

from __future__ import annotations

from documents.report_text import plain_text, ruled_tables

PAGE = """<table><thead><tr><th>ỦY BAN NHÂN DÂN<br>TỈNH VĨNH LONG</th>
<th>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</th></tr></thead>
<tbody><tr><td>Số: 215/BC-UBND</td><td><strong>Độc lập - Tự do - Hạnh phúc</strong></td></tr>
</tbody></table>
<h1>BÁO CÁO</h1>
<p><strong>Kết quả năm 2026</strong></p>
<h2>I. KẾT QUẢ</h2>
<table><thead><tr><th>STT</th><th>Chỉ tiêu</th><th>Năm 2026</th><th>Đánh giá</th></tr></thead>
<tbody><tr><td>2</td><td>Tỷ lệ thất nghiệp chung</td><td>2,35%</td><td>Đạt</td></tr>
<tr><td>27</td><td>Nhà ở xã hội</td><td></td><td>Chưa giao chỉ tiêu</td></tr></tbody></table>
<ul><li><strong>Sở Y tế</strong>: Thiếu kinh phí.<br>
  - &lt;b&gt;gõ&lt;/b&gt; *a*</li></ul>
<hr />
<table><thead><tr><th><strong>Nơi nhận:</strong></th><th><strong>TM. ỦY BAN NHÂN DÂN</strong></th>
</tr></thead><tbody><tr><td>- Bộ Nội vụ;</td><td><strong>Trần Thị Bình</strong></td></tr>
</tbody></table>"""


def test_plain_text_reads_as_on_paper():
    text = plain_text(PAGE)
    assert text.startswith(
        "ỦY BAN NHÂN DÂN\nTỈNH VĨNH LONG\nSố: 215/BC-UBND\n\n"
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n\nBÁO CÁO\n\n"
        "Kết quả năm 2026\n\nI. KẾT QUẢ\n\n"
    )
    assert (
        "2. Tỷ lệ thất nghiệp chung\n   Năm 2026: 2,35%; Đánh giá: Đạt.\n"
        "27. Nhà ở xã hội\n   Năm 2026: —; Đánh giá: Chưa giao chỉ tiêu.\n"
    ) in text
    assert "- Sở Y tế: Thiếu kinh phí.\n  - <b>gõ</b> *a*\n" in text  # typed text as typed
    assert text.endswith("Nơi nhận:\n- Bộ Nội vụ;\n\nTM. ỦY BAN NHÂN DÂN\nTrần Thị Bình\n")


def test_data_tables_are_ruled_and_layout_tables_are_not():
    html = ruled_tables(PAGE)
    tables = html.split("<table")[1:]
    assert "border" not in tables[0].split(">")[0] and "border" not in tables[2].split(">")[0]
    assert tables[1].startswith(' style="border-collapse: collapse;')
    assert 'border="1"' in tables[1].split(">")[0]
    assert tables[1].count('<th style="border: 1px solid #777;') == 4
    assert tables[1].count('<td style="border: 1px solid #777;') == 8
    assert "&lt;b&gt;gõ&lt;/b&gt;" in html and "<b>" not in html  # still escaped
    assert "<br>" in html and "<hr>" in html
