"""Table artifacts as coordinators read them in the Prefect UI: Vietnamese headers, and what
each row's status is in the second column (the UI cuts wide tables at the right: at 1,440 px
a status in the last column was off-screen)."""

from __future__ import annotations

from documents.labels import DELIVERY_STATUS_TEXT, MESSAGE_KIND_TEXT
from documents.report_data import (
    AgencyRow,
    ExtensionRow,
    FlaggedRow,
    IndicatorEvaluation,
    IndicatorRow,
)


def request_status(row: dict) -> str:
    if row.get("problem"):
        return f"Không gửi được: {row['problem']}"
    return "Đã xếp gửi" if row["queued"] else "Đã có từ lần chạy trước"


def requests_table(rows: list[dict]) -> list[dict]:
    """The agencies asked (yearly cycle or review round), from the request rows."""
    return [
        {
            "Cơ quan": row["name"],
            "Tình trạng": request_status(row),
            "Email": row["email"],
            "Số chỉ tiêu": row["indicators"],
            "Số nhóm nhiệm vụ": row["task_groups"],
            "Mã cơ quan": row["agency"],
        }
        for row in rows
    ]


def agencies_table(agencies: list[AgencyRow]) -> list[dict]:
    """Who reported and when, from the consolidation's agency rows."""
    return [
        {
            "Cơ quan": a.name,
            "Tình trạng": a.status_text,
            "Ngày gửi": a.submitted_on or "",
            "Số lần gửi": a.revisions,
        }
        for a in agencies
    ]


def indicators_table(indicators: list[IndicatorRow]) -> list[dict]:
    """The provincial value of each target against it, its assessment second."""
    return [
        {
            "Chỉ tiêu": f"{i.number}. {i.name}",
            "Đánh giá": i.met_text,
            "Tiến độ": i.progress_text,
            "Giá trị": i.value,
            "Năm trước": i.previous,
            "Mục tiêu": i.target,
        }
        for i in indicators
    ]


def evaluated_table(indicators: list[IndicatorEvaluation]) -> list[dict]:
    """A review's assessment of each target, second; its values year by year after it."""
    return [
        {
            "Chỉ tiêu": f"{i.number}. {i.name}",
            "Đánh giá": i.progress_text,
            "Mục tiêu": i.target,
            **{f"Năm {t['year']}": t["value"] for t in i.series_text},
        }
        for i in indicators
    ]


def flagged_table(flagged: list[FlaggedRow]) -> list[dict]:
    """The counted values that looked wrong (``reporting.plausibility``), how each was handled
    second: confirmed by the agency's clerk, or stored with a warning on import."""
    return [
        {
            "Cơ quan": f.agency,
            "Xử lý": f.handling,
            "Chỉ tiêu": f.indicator,
            "Giá trị": f.value,
            "Lý do": f.reasons,
        }
        for f in flagged
    ]


def extensions_table(extensions: list[ExtensionRow]) -> list[dict]:
    """The more time granted (from the consolidation's extension rows), how each agency then
    reported second: on time means by its own date."""
    return [
        {
            "Cơ quan": e.agency,
            "Tình trạng": e.status_text,
            "Gia hạn đến": e.until,
            "Đề nghị đến ngày": e.requested_until,
            "Lý do": e.reason,
            "Ghi chú": e.note,
        }
        for e in extensions
    ]


def deliveries_table(rows: list[tuple[str, str, str, int, str]]) -> list[dict]:
    """What became of each message a delivery run tried: (agency code, status, kind, rung,
    the relay's reply)."""
    return [
        {
            "Cơ quan": agency,
            "Tình trạng": DELIVERY_STATUS_TEXT.get(status, status),
            "Loại thư": MESSAGE_KIND_TEXT.get(kind, kind),
            "Bậc nhắc": f"{rung:+d}" if kind == "reminder" else "",
            "Phản hồi của máy chủ thư": reply,
        }
        for agency, status, kind, rung, reply in rows
    ]


REPLY_STATUS_TEXT = {
    "stored": "Đã nhận",
    "invalid": "Biểu mẫu có lỗi (đã báo lỗi)",
    "rejected": "Không dùng được (đã hướng dẫn)",
    "ignored": "Bỏ qua (thư tự động hoặc đã đọc)",
    "bounce": "Báo lỗi chuyển phát",
}


def replies_table(outcomes: list[dict]) -> list[dict]:
    """The messages a read-replies run read: what became of each, and why."""
    return [
        {
            "Người gửi": o["sender"],
            "Tình trạng": REPLY_STATUS_TEXT.get(o["status"], o["status"]),
            "Lý do": o["reason"],
            "Cơ quan": o["agency"],
            "Lần gửi": o["revision"] or "",
            "Đã trả lời": "có" if o["answered"] else "không",
            "Thư mục": o["folder"],
            "Message-ID": o["message_id"],
        }
        for o in outcomes
    ]
