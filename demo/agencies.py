"""How the demo's agencies behave: when they report (if ever) and what they write."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from documents.vietnamese import format_number
from models.observations import Observed
from models.orm import Agency, Cycle
from reporting.submission_input import SubmissionInput, TaskReportInput

# Behaviour by position in the registry, repeating: most report early, some near the deadline,
# some late, some never.
PATTERN = ["early", "near", "early", "late", "early", "never", "near", "early", "late", "never"]

RESULTS = [
    "Ban hành kế hoạch thực hiện năm {year}, phân công nhiệm vụ cụ thể cho từng phòng, đơn vị; "
    "tổ chức {n} hội nghị quán triệt, tuyên truyền với {people} lượt người tham dự.",
    "Triển khai đầy đủ, kịp thời các chính sách; đã chi trả không dùng tiền mặt cho {share}% "
    "đối tượng; kiểm tra {n} cuộc, không phát hiện sai phạm lớn.",
    "Lồng ghép nhiệm vụ vào kế hoạch phát triển kinh tế - xã hội năm {year}; "
    "kết quả cơ bản đạt và vượt kế hoạch đề ra.",
]
DIFFICULTIES = [
    "Nguồn kinh phí còn hạn chế; đội ngũ cán bộ làm công tác chính sách xã hội ở cơ sở còn "
    "thiếu, phải kiêm nhiệm nhiều việc.",
    "Sau sắp xếp đơn vị hành chính, việc bàn giao hồ sơ, dữ liệu đối tượng chưa đồng bộ.",
]
PROPOSALS = [
    "Đề nghị Trung ương sớm ban hành hướng dẫn thống nhất bộ chỉ tiêu theo dõi, đánh giá "
    "sau sắp xếp đơn vị hành chính.",
    "Đề nghị bố trí kinh phí hỗ trợ xóa nhà tạm, nhà dột nát cho hộ nghèo, hộ cận nghèo.",
]
ADJUSTMENT = (
    "Đề nghị rà soát, điều chỉnh chỉ tiêu tỷ lệ lao động qua đào tạo có bằng cấp, "
    "chứng chỉ cho phù hợp với phạm vi tỉnh mới sau hợp nhất."
)


def behaviour(position: int) -> str:
    return PATTERN[position % len(PATTERN)]


def submission_day(agency: Agency, cycle: Cycle) -> dt.date | None:
    """The day this agency reports, or None if it never does."""
    rng = random.Random(f"day-{agency.code}")
    kind = behaviour(agency.position)
    if kind == "never":
        return None
    if kind == "early":
        return cycle.opened_on + dt.timedelta(days=rng.randint(5, 20))
    if kind == "near":
        return cycle.deadline - dt.timedelta(days=rng.randint(0, 5))
    return cycle.deadline + dt.timedelta(days=rng.randint(2, 6))


def _next_value(kind: str, last: Observed | None, rng: random.Random) -> object:
    if kind == "yes_no":
        return "có" if last is None or last.achieved or rng.random() < 0.5 else "không"
    base = last.value if last and last.value is not None else Decimal(50)
    step = base * Decimal(rng.uniform(-0.02, 0.06))
    value = max(Decimal(0), base + step)
    if kind == "percent":
        return f"{min(value, Decimal(100)):.1f}".replace(".", ",")  # as an agency types it
    if kind == "count":
        return int(value)
    return f"{value:.2f}"


def submission_for(
    agency: Agency, cycle: Cycle, last_year: dict[str, Observed], revision: int = 1
) -> SubmissionInput:
    """A plausible report for the agency: values near last year's, a few words per task."""
    rng = random.Random(f"content-{agency.code}-{revision}")
    values = {i.code: _next_value(i.kind, last_year.get(i.code), rng) for i in agency.indicators}
    tasks = {}
    for group in agency.task_groups:
        status = rng.choice(["done", "in_progress", "ongoing", "ongoing"])
        tasks[group.code] = TaskReportInput(
            status=status,
            results=rng.choice(RESULTS).format(
                year=cycle.year,
                n=rng.randint(2, 12),
                people=format_number(rng.randint(150, 2400)),
                share=rng.randint(85, 99),
            ),
            difficulties=rng.choice(DIFFICULTIES) if rng.random() < 0.3 else "",
            proposals=rng.choice(PROPOSALS) if rng.random() < 0.2 else "",
        )
    adjustments = ADJUSTMENT if rng.random() < 0.15 else ""
    return SubmissionInput(values=values, tasks=tasks, adjustment_proposals=adjustments)
