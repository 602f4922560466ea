"""The words the reports, the forms and the artifacts use for the system's statuses, in one
place: task and agency statuses, message kinds and delivery outcomes, progress toward a
target, the parts of a review's narrative.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from documents.vietnamese import format_number
from models.orm import CycleKind, TaskStatus

TASK_STATUS_TEXT = {
    TaskStatus.NOT_STARTED: "Chưa triển khai",
    TaskStatus.IN_PROGRESS: "Đang thực hiện",
    TaskStatus.DONE: "Hoàn thành",
    TaskStatus.ONGOING: "Thực hiện thường xuyên",
}
MESSAGE_KIND_TEXT = {
    "request": "Thư đề nghị báo cáo",
    "reminder": "Thư nhắc",
    "receipt": "Thư xác nhận",
    "returned": "Thư đề nghị gửi lại",
    "link": "Thư cấp lại đường dẫn",
    "report": "Báo cáo gửi Bộ",
    "extension": "Thư trả lời đề nghị gia hạn",
}
DELIVERY_STATUS_TEXT = {
    "sent": "Đã gửi",
    "pending": "Chờ gửi lại",
    "sending": "Đang gửi",
    "failed": "Không gửi được",
    "unknown": "Chưa rõ đã đến nơi hay chưa",
    "partial": "Chưa đến được một số người nhận",
}
AGENCY_STATUS_TEXT = {
    "on_time": "Đúng hạn",
    "late": "Trễ hạn",
    "missing": "Chưa báo cáo",
    "returned": "Bị trả lại, chưa gửi lại",
}
NARRATIVE_LABELS = {
    "results": "Kết quả đạt được",
    "shortfall_causes": "Tồn tại, hạn chế và nguyên nhân",
    "lessons": "Bài học kinh nghiệm",
    "proposals": "Đề xuất, kiến nghị",
}
AGENCY_KIND_TEXT = {
    "department": "Sở, ban, ngành",
    "organisation": "Cơ quan, tổ chức",
    "local": "UBND cấp cơ sở",
}
CHANNEL_TEXT = {  # how a report arrived, as the annex names it (never the internal code)
    "web_form": "Biểu mẫu trực tuyến",
    "upload": "Tải lên tệp Excel",
    "ops_import": "Nhập từ tệp đã gửi",
    "demo": "Dữ liệu minh họa",
}
TREND_TEXT = {"up": "Tăng", "down": "Giảm", "same": "Không đổi"}
REVIEW_TEXT = {CycleKind.MIDTERM: "sơ kết", CycleKind.FINAL: "tổng kết"}


def channel_text(channel: str | None) -> str:
    return "—" if not channel else CHANNEL_TEXT.get(channel, "Khác")


def trend_text(trend: str | None) -> str:
    """'Tăng', 'Giảm', 'Không đổi', or '—' without both years' values."""
    return TREND_TEXT.get(trend or "", "—")


class Progress(StrEnum):
    ACHIEVED = "achieved"
    ON_TRACK = "on_track"
    ACCELERATION_NEEDED = "acceleration_needed"
    LIMITED_PROGRESS = "limited_progress"
    MOVING_AWAY = "moving_away"
    NOT_ACHIEVED = "not_achieved"  # yes/no targets
    INSUFFICIENT_DATA = "insufficient_data"
    NO_TARGET = "no_target"

    @property
    def text(self) -> str:
        return {
            "achieved": "Đã đạt mục tiêu",
            "on_track": "Đúng lộ trình",
            "acceleration_needed": "Cần tăng tốc",
            "limited_progress": "Tiến bộ hạn chế",
            "moving_away": "Đi ngược mục tiêu",
            "not_achieved": "Chưa đạt",
            "insufficient_data": "Chưa đủ số liệu để đánh giá",
            "no_target": "Chưa giao chỉ tiêu",
        }[self.value]


WORSENING_TEXT = "đạt nhưng đang xấu đi"


def shown_ratio(ratio: float) -> Decimal:
    """R as printed: two decimals, rounded down so the figure never reads as the next status
    up (0.9496 -> 0.94: acceleration needed, as decided on the unrounded value)."""
    return Decimal(repr(ratio)).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)


def ratio_text(ratio: float) -> str:
    """R as the reports print it: '0,94', '0,80', '−0,03' (always two decimals; the minus is a
    real minus sign, U+2212, which no line break separates from its number)."""
    return format_number(shown_ratio(ratio), decimals=2).replace("-", "\u2212")


def progress_text(status: Progress, ratio: float | None, worsening: bool) -> str:
    """'Cần tăng tốc (R = 0,77)', 'Đã đạt mục tiêu; đạt nhưng đang xấu đi', as reports show it."""
    text = status.text
    if ratio is not None:
        text += f" (R\u00a0=\u00a0{ratio_text(ratio)})"
    if worsening:
        text += f"; {WORSENING_TEXT}"
    return text
