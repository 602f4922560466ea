"""How the reports decide an indicator's progress status, in the words printed in them.

Every report that shows a status or a ratio R (the yearly report, the mid-term and final
reviews) prints these paragraphs, so that a reader can check each status by hand: the formula,
the thresholds, the zero rule, strict bounds and "too few years" (``reporting.progress``).
"""

from __future__ import annotations


def _whole(inequality: str) -> str:
    """'0,6 ≤ R < 0,95' printed on one line (no-break spaces)."""
    return inequality.replace(" ", "\u00a0")


def method_paragraphs(baseline_year: int, target_year: int) -> list[str]:
    """The method, as three paragraphs of Vietnamese text."""
    return [
        "Trước hết xét chỉ tiêu đã đạt mục tiêu hay chưa; ngưỡng «dưới», «trên» là ngưỡng "
        "chặt (không tính bằng), «tối thiểu», «ít nhất», «đạt» tính cả bằng; chỉ tiêu có/không "
        "chỉ xét đạt hay chưa đạt. Chỉ tiêu đã đạt nhưng số liệu năm sau kém hơn năm trước theo "
        "chiều tốt của chỉ tiêu được ghi «đạt nhưng đang xấu đi».",
        "Chỉ tiêu chưa đạt được tính tỷ số R = d × CAGR thực tế / |CAGR cần có| theo phương "
        "pháp đo tiến độ của Open SDG (tính như mã nguồn sdg-build đã công bố), trong đó CAGR "
        f"thực tế = (giá trị mới nhất / giá trị năm gốc {baseline_year})^(1/số năm đã qua) − 1; "
        f"CAGR cần có = (mục tiêu / giá trị năm gốc)^(1/({target_year} − {baseline_year})) − 1; "
        "d = +1 với chỉ tiêu càng cao càng tốt, −1 với chỉ tiêu càng thấp càng tốt. Mục tiêu "
        "hoặc giá trị năm gốc bằng 0 được thay bằng 0,001 khi tính; giá trị năm gốc đã bằng "
        "mục tiêu mà số liệu sau kém hơn được xếp đi ngược mục tiêu.",
        f"Ngưỡng đánh giá, xét trên R chưa làm tròn: {_whole('R ≥ 0,95')} đúng lộ trình; "
        f"{_whole('0,6 ≤ R < 0,95')} cần tăng tốc; {_whole('0 ≤ R < 0,6')} tiến bộ hạn chế; "
        f"{_whole('R < 0')} đi ngược mục tiêu. R được ghi hai "
        "chữ số thập phân, làm tròn xuống. Chỉ tiêu chưa có số liệu năm gốc và ít nhất một năm "
        "sau được ghi «chưa đủ số liệu để đánh giá», không ước đoán; chỉ tiêu chưa được giao "
        "mục tiêu cụ thể được ghi «chưa giao chỉ tiêu».",
    ]
