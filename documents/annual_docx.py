"""The yearly report as a Decree 30 DOCX, from a stored consolidation (the same data as the
Markdown of ``templates/report/annual.md.j2``: nothing is computed again here)."""

from __future__ import annotations

import datetime as dt

from documents import decree30 as d30
from documents.charts import ReportCharts
from documents.labels import Progress
from documents.progress_method import method_paragraphs
from documents.report import reported_share, trend_text
from documents.vietnamese import format_date

AGENCY_WIDTHS_CM = (1.1, 7.3, 3.5, 2.6, 2.0)
NO_TARGET_TEXT = Progress.NO_TARGET.text
CHART_LEGEND = (
    "Đường liền: số liệu các năm; đường gạch: lộ trình thẳng từ năm gốc {baseline} đến mục "
    "tiêu năm {target_year} (khi năm gốc chưa đạt mục tiêu); đường chấm đỏ: mục tiêu."
)


def summary_line(data: dict) -> str:
    return f"Kết quả thực hiện {data['short_name']} năm {data['year']}"


def document_year(data: dict) -> int:
    """The year on a draft's blank date line: the year the consolidation was made."""
    return dt.datetime.strptime(data["as_of"], "%d/%m/%Y").year


def _reporting(doc, data: dict) -> None:  # type: ignore[no-untyped-def]
    d30.add_heading(doc, "1. Tình hình báo cáo của các cơ quan, đơn vị", 2)
    share = f" (đạt {reported_share(data)})" if data["requested"] else ""
    d30.add_paragraph(
        doc,
        f"Có {data['on_time'] + data['late']}/{data['requested']} cơ quan, đơn vị gửi báo cáo"
        f"{share}, trong đó {data['on_time']} đúng hạn và {data['late']} trễ hạn (hạn "
        f"{data['deadline']}); {data['missing']} cơ quan, đơn vị chưa báo cáo.",
    )
    d30.add_table(
        doc,
        ["STT", "Cơ quan, đơn vị", "Tình trạng", "Ngày gửi", "Số lần gửi"],
        [
            [str(n), a["name"], a["status_text"], a["submitted_on"] or "—", str(a["revisions"])]
            for n, a in enumerate(data["agencies"], start=1)
        ],
        widths_cm=AGENCY_WIDTHS_CM,
        align=["center", "left", "left", "center", "center"],
    )
    if data["undelivered"]:
        d30.add_paragraph(
            doc,
            f"Thư điện tử chưa gửi được ({len(data['undelivered'])}), cần kiểm tra:",
            italic=True,
        )
        d30.add_table(
            doc,
            ["Cơ quan, đơn vị", "Thư", "Tình trạng", "Phản hồi của máy chủ thư"],
            [[m["agency"], m["kind"], m["status"], m["reply"]] for m in data["undelivered"]],
            widths_cm=(4.5, 3.5, 3.5, 5.0),
        )


def _tasks(doc, data: dict) -> None:  # type: ignore[no-untyped-def]
    d30.add_heading(doc, "2. Kết quả thực hiện các nhiệm vụ, giải pháp chủ yếu", 2)
    for group in data["task_groups"]:
        d30.add_heading(doc, f"2.{group['number']}. {group['name']}", 3)
        d30.add_paragraph(doc, f"Cơ quan chủ trì: {group['lead']}.", italic=True)
        for entry in group["entries"]:
            d30.add_bullet(
                doc,
                entry["results"] or "không nêu kết quả",
                lead=f"{entry['agency']} ({entry['status'].lower()})",
            )
        if not group["entries"]:
            d30.add_bullet(doc, "Chưa có cơ quan, đơn vị báo cáo nội dung này.")


def indicator_rows(data: dict) -> list[list[str]]:
    """The indicator table's rows as the report shows them (Vietnamese numbers already)."""
    return [
        [
            str(i["number"]),
            i["name"],
            i["target"],
            i["previous"],
            i["value"],
            i["met_text"],
            trend_text(i["trend"]),
            i["progress"],
        ]
        for i in data["indicators"]
    ]


def indicator_columns(data: dict) -> list[str]:
    return [
        "STT",
        "Chỉ tiêu",
        f"Mục tiêu {data['target_year']}",
        f"Năm {data['year'] - 1}",
        f"Năm {data['year']}",
        "Đánh giá",
        "Xu hướng",
        f"Tiến độ đến năm {data['target_year']}",
    ]


def _indicators(doc, data: dict, charts: ReportCharts | None) -> None:  # type: ignore[no-untyped-def]
    target_year = data["target_year"]
    d30.add_heading(doc, f"3. Kết quả thực hiện các chỉ tiêu chủ yếu đến năm {target_year}", 2)
    met = sum(1 for i in data["indicators"] if i["met"] is True)
    not_met = sum(1 for i in data["indicators"] if i["met"] is False)
    total = len(data["indicators"])
    unassigned = sum(1 for i in data["indicators"] if i["met_text"] == NO_TARGET_TEXT)
    d30.add_paragraph(
        doc,
        f"Trong {total} chỉ tiêu: {met} chỉ tiêu đã đạt mục tiêu năm {target_year}, {not_met} "
        f"chỉ tiêu chưa đạt, {total - met - not_met - unassigned} chỉ tiêu chưa có số liệu, "
        f"{unassigned} chỉ tiêu chưa giao chỉ tiêu (chi tiết tại bảng dưới đây và Phụ lục kèm "
        "theo).",
    )
    if charts is not None:
        d30.add_picture(
            doc,
            charts.overview,
            width_cm=13.5,
            caption=f"Biểu đồ: tiến độ thực hiện {total} chỉ tiêu đến năm {target_year}",
        )
    d30.add_fitted_table(
        doc,
        indicator_columns(data),
        indicator_rows(data),
        align=["center", "left", "left", "right", "right", "left", "left", "left"],
    )
    if data.get("baseline_year"):
        d30.add_paragraph(doc, "Phương pháp đánh giá tiến độ:", italic=True)
        for text in method_paragraphs(data["baseline_year"], target_year):
            d30.add_paragraph(doc, text, italic=True)


def _listing(doc, title: str, items: list[tuple[str, str]], empty: str) -> None:  # type: ignore[no-untyped-def]
    d30.add_heading(doc, title, 1)
    for agency, text in items:
        d30.add_bullet(doc, text, lead=agency)
    if not items:
        d30.add_bullet(doc, empty)


def _appendix(doc, data: dict, charts: ReportCharts, reference: str, baseline: int) -> None:  # type: ignore[no-untyped-def]
    d30.add_page_break(doc)
    d30.add_heading_centred(doc, "PHỤ LỤC")
    d30.add_heading_centred(doc, "BIỂU ĐỒ CÁC CHỈ TIÊU CHỦ YẾU")
    d30.add_heading_centred(doc, f"({reference})", bold=False, italic=True)
    d30.add_paragraph(
        doc, CHART_LEGEND.format(baseline=baseline, target_year=data["target_year"]), italic=True
    )
    d30.add_picture_grid(doc, [png for _, png in charts.indicators], columns=2)


def annual_docx(
    data: dict,
    registry_document: dict,
    *,
    draft: bool,
    number: str | None = None,
    signer: str | None = None,
    report_date: dt.date | None = None,
    charts: ReportCharts | None = None,
    baseline_year: int | None = None,
) -> bytes:
    """The DOCX of the yearly report: a draft (no number, no date, no signer's name, marked
    'DỰ THẢO') or the approved report with ``number``, ``signer`` and ``report_date``."""
    if not draft and not (number and signer and report_date):
        raise ValueError("the approved report needs its number, signer and date")
    doc = d30.new_document()
    issuer = d30.issuer_name(registry_document)
    d30.set_properties(doc, title=summary_line(data), author=issuer, day=report_date)
    if draft:
        d30.add_draft_mark(doc, f"Tổng hợp ngày {data['as_of']}; chưa được phê duyệt.")
    d30.add_header(
        doc,
        d30.Header.from_registry(
            registry_document,
            number=None if draft else number,
            day=None if draft else report_date,
            year=document_year(data),
        ),
    )
    d30.add_title(doc, "Báo cáo", summary_line(data))
    d30.add_paragraph(
        doc,
        f"Thực hiện {data['decision']} ban hành {data['programme']}, {issuer} báo cáo kết quả "
        f"thực hiện năm {data['year']} như sau:",
    )
    d30.add_heading(doc, "I. Kết quả triển khai thực hiện", 1)
    _reporting(doc, data)
    _tasks(doc, data)
    _indicators(doc, data, charts)
    _listing(
        doc,
        "II. Khó khăn, vướng mắc",
        [(e["agency"], e["difficulties"]) for e in data["difficulties"]],
        "Các cơ quan, đơn vị không nêu khó khăn, vướng mắc.",
    )
    _listing(
        doc,
        "III. Đề xuất điều chỉnh nội dung Chương trình",
        [(a["agency"], a["text"]) for a in data["adjustments"]],
        "Không có đề xuất điều chỉnh.",
    )
    d30.add_heading(doc, "IV. Kiến nghị", 1)
    ministry = registry_document["ministry"]["name"]
    d30.add_paragraph(
        doc, f"Kính đề nghị {ministry} quan tâm, xem xét các kiến nghị của các cơ quan, đơn vị:"
    )
    for item in data["recommendations"]:
        d30.add_bullet(doc, item["text"], lead=item["agency"])
    if not data["recommendations"]:
        d30.add_bullet(doc, "Không có kiến nghị.")
    d30.add_paragraph(
        doc,
        f"Trên đây là báo cáo kết quả thực hiện {data['short_name']} năm {data['year']} của "
        f"{issuer}./.",
    )
    d30.add_closing(
        doc,
        registry_document["recipients"],
        d30.Signature.from_registry(registry_document["signer"], name=None if draft else signer),
    )
    if charts is not None and charts.indicators:
        reference = (
            f"Kèm theo Báo cáo số {number} ngày {format_date(report_date)} của {issuer}"
            if not draft and report_date
            else f"Kèm theo Báo cáo của {issuer}"
        )
        _appendix(doc, data, charts, reference, baseline_year or data["year"] - 1)
    return d30.to_bytes(doc)
