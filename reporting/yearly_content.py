"""What the yearly report says: :func:`build_content` is its one definition, as blocks (headings,
paragraphs, tables, charts) that the DOCX, HTML, Markdown artifact and XLSX annex renderers walk.

The report follows Decree 30 (header, 'BÁO CÁO' and its summary, body, 'Nơi nhận:', signature),
then a chart appendix; its body reads: I. results (who reported, undelivered mail, the task
groups, the indicators against their targets and the progress method), II. difficulties, III.
proposed adjustments, IV. recommendations. The tables the annex details (indicators, reporting)
are the same blocks, with more columns (:mod:`reporting.yearly_annex` adds its own sheets).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

from documents.content import (
    AnnexSheet,
    Block,
    Charts,
    Content,
    Heading,
    PageBreak,
    Para,
    TableBlock,
)
from documents.labels import Progress, channel_text, trend_text
from documents.progress_method import method_paragraphs
from documents.report_data import Consolidation
from documents.vietnamese import format_date, format_percent
from reporting.yearly_annex import SHEETS, annex_sheets

AGENCY_WIDTHS_CM = (1.1, 7.3, 3.5, 2.6, 2.0)
CHART_LEGEND = (
    "Đường liền: số liệu các năm; đường gạch: lộ trình thẳng từ năm gốc {baseline} đến mục "
    "tiêu năm {target_year} (khi năm gốc chưa đạt mục tiêu); đường chấm đỏ: mục tiêu."
)
Series = Mapping[str, Mapping[int, Decimal | bool | None]]


def summary_line(c: Consolidation) -> str:
    return f"Kết quả thực hiện {c.short_name} năm {c.year}"


def document_year(c: Consolidation) -> int:
    """The year on a draft's blank date line: the year the consolidation was made."""
    return dt.datetime.strptime(c.as_of, "%d/%m/%Y").year


def reported_share(c: Consolidation) -> str:
    """'82,6%' of the agencies asked that reported (on time or late); '—' when none was asked."""
    if not c.requested:
        return "—"
    return format_percent(round(c.reported * 100 / c.requested, 1))


def agency_table(c: Consolidation) -> TableBlock:
    """Who reported: the report shows five columns, the annex adds how each report arrived."""
    return TableBlock(
        ["STT", "Cơ quan, đơn vị", "Tình trạng", "Ngày gửi", "Số lần gửi"],
        [
            [n, a.name, a.status_text, a.submitted_on or "—", a.revisions, channel_text(a.channel)]
            for n, a in enumerate(c.agencies, start=1)
        ],
        ["center", "left", "left", "center", "center"],
        widths_cm=AGENCY_WIDTHS_CM,
        pick=(0, 1, 2, 3, 4),
        annex=AnnexSheet(
            SHEETS[3],
            f"TÌNH HÌNH BÁO CÁO CỦA CÁC CƠ QUAN, ĐƠN VỊ NĂM {c.year} (hạn {c.deadline})",
            [("STT", 6), ("Cơ quan, đơn vị", 45), ("Tình trạng", 24), ("Ngày gửi", 12),
             ("Số lần gửi", 10), ("Hình thức gửi", 14)],  # fmt: skip
        ),
    )


def indicator_table(c: Consolidation, series: Series) -> TableBlock:
    """The indicators against their targets: eight columns in the report; the annex adds the
    unit, the reporting agency, both years' values as numbers and the note."""
    year, target_year = c.year, c.target_year
    rows: list[list] = []
    for i in c.indicators:
        values = series.get(i.code, {})
        rows.append(
            [i.number, i.name, i.unit, i.reporter, i.target,
             values.get(year - 1), values.get(year),
             i.previous, i.value, i.met_text, trend_text(i.trend), i.progress_text, i.note]
        )  # fmt: skip
    return TableBlock(
        ["STT", "Chỉ tiêu", f"Mục tiêu {target_year}", f"Năm {year - 1}", f"Năm {year}",
         "Đánh giá", "Xu hướng", f"Tiến độ đến năm {target_year}"],  # fmt: skip
        rows,
        ["center", "left", "left", "right", "right", "left", "left", "left"],
        pick=(0, 1, 4, 7, 8, 9, 10, 11),
        annex=AnnexSheet(
            SHEETS[0],
            f"KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU CHỦ YẾU ĐẾN NĂM {target_year}",
            [("STT", 6), ("Chỉ tiêu", 50), ("Đơn vị tính", 12), ("Cơ quan báo cáo", 24),
             (f"Mục tiêu {target_year}", 20), (f"Năm {year - 1}", 12), (f"Năm {year}", 12),
             (f"Năm {year} (như báo cáo)", 16), ("Đánh giá", 14), ("Xu hướng", 11),
             (f"Tiến độ đến năm {target_year}", 28), ("Ghi chú", 30)],  # fmt: skip
            pick=(0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12),
        ),
    )


def _reporting(c: Consolidation, agencies: TableBlock) -> list[Block]:
    share = f" (đạt {reported_share(c)})" if c.requested else ""
    blocks: list[Block] = [
        Heading("1. Tình hình báo cáo của các cơ quan, đơn vị", 2),
        Para(
            f"Có {c.reported}/{c.requested} cơ quan, đơn vị gửi báo cáo{share}, trong đó "
            f"{c.on_time} đúng hạn và {c.late} trễ hạn (hạn {c.deadline}); {c.missing} cơ "
            "quan, đơn vị chưa báo cáo."
        ),
        agencies,
    ]
    if c.extensions:
        blocks += [
            Para(
                f"Có {len(c.extensions)} cơ quan, đơn vị được gia hạn; báo cáo nhận đến hết ngày "
                "được gia hạn được tính là đúng hạn."
            ),
            TableBlock(
                ["Cơ quan, đơn vị", "Gia hạn đến", "Đề nghị đến ngày", "Lý do", "Ghi chú",
                 "Tình trạng"],  # fmt: skip
                [[e.agency, e.until, e.requested_until, e.reason, e.note or "—", e.status_text]
                 for e in c.extensions],  # fmt: skip
                ["left", "center", "center", "left", "left", "left"],
                widths_cm=(3.8, 2.2, 2.2, 4.0, 2.6, 2.2),
            ),
        ]
    if c.undelivered:
        blocks += [
            Para(f"Thư điện tử chưa gửi được ({len(c.undelivered)}), cần kiểm tra:", italic=True),
            TableBlock(
                ["Cơ quan, đơn vị", "Thư", "Tình trạng", "Phản hồi của máy chủ thư"],
                [[m.agency, m.kind_text, m.status_text, m.reply] for m in c.undelivered],
                ["left"] * 4,
                widths_cm=(4.5, 3.5, 3.5, 5.0),
            ),
        ]
    return blocks


def _tasks(c: Consolidation) -> list[Block]:
    blocks: list[Block] = [Heading("2. Kết quả thực hiện các nhiệm vụ, giải pháp chủ yếu", 2)]
    for group in c.task_groups:
        blocks += [
            Heading(f"2.{group.number}. {group.name}", 3),
            Para(f"Cơ quan chủ trì: {group.lead}.", italic=True),
        ]
        blocks += [
            Para(
                e.results or "không nêu kết quả",
                lead=f"{e.agency} ({e.status_text.lower()})",
                bullet=True,
            )
            for e in group.entries
        ]
        if not group.entries:
            blocks.append(Para("Chưa có cơ quan, đơn vị báo cáo nội dung này.", bullet=True))
    return blocks


def _indicators(c: Consolidation, table: TableBlock) -> list[Block]:
    target_year, total = c.target_year, len(c.indicators)
    met = sum(1 for i in c.indicators if i.met is True)
    not_met = sum(1 for i in c.indicators if i.met is False)
    unassigned = sum(1 for i in c.indicators if i.progress == Progress.NO_TARGET)
    blocks: list[Block] = [
        Heading(f"3. Kết quả thực hiện các chỉ tiêu chủ yếu đến năm {target_year}", 2),
        Para(
            f"Trong {total} chỉ tiêu: {met} chỉ tiêu đã đạt mục tiêu năm {target_year}, "
            f"{not_met} chỉ tiêu chưa đạt, {total - met - not_met - unassigned} chỉ tiêu chưa "
            f"có số liệu, {unassigned} chỉ tiêu chưa giao chỉ tiêu (chi tiết tại bảng dưới đây "
            "và Phụ lục kèm theo)."
        ),
        Charts(
            ["overview"],
            caption=f"Biểu đồ: tiến độ thực hiện {total} chỉ tiêu đến năm {target_year}",
            width_cm=13.5,
        ),
        table,
    ]
    if c.baseline_year:
        blocks.append(Para("Phương pháp đánh giá tiến độ:", italic=True))
        blocks += [
            Para(text, italic=True) for text in method_paragraphs(c.baseline_year, target_year)
        ]
    return blocks


def _listing(title: str, items: list[tuple[str, str]], empty: str) -> list[Block]:
    return [
        Heading(title, 1),
        *[Para(text, lead=agency, bullet=True) for agency, text in items],
        *([] if items else [Para(empty, bullet=True)]),
    ]


def _appendix(
    c: Consolidation, issuer: str, number: str | None, day: dt.date | None
) -> list[Block]:
    reference = (
        f"Kèm theo Báo cáo số {number} ngày {format_date(day)} của {issuer}"
        if number and day
        else f"Kèm theo Báo cáo của {issuer}"
    )
    baseline = c.baseline_year or c.year - 1
    return [
        PageBreak(),
        Heading("PHỤ LỤC", centred=True),
        Heading("BIỂU ĐỒ CÁC CHỈ TIÊU CHỦ YẾU", centred=True),
        Para(f"({reference})", italic=True, centred=True),
        Para(CHART_LEGEND.format(baseline=baseline, target_year=c.target_year), italic=True),
        Charts([i.code for i in c.indicators], grid=True),
    ]


def build_content(
    c: Consolidation,
    registry_document: dict,
    *,
    number: str | None = None,
    signer: str | None = None,
    day: dt.date | None = None,
    annex_reference: str = "",
    series: Series | None = None,
    agency_values: Sequence[Sequence[object]] = (),
) -> Content:
    """The yearly report of consolidation ``c``: the draft (no ``number``, ``signer`` or
    ``day``; marked 'DỰ THẢO') or the approved report. ``series`` (indicator code -> year ->
    provincial value) and ``agency_values`` (each counted value, agency by agency) are the
    annex's numbers; ``annex_reference`` heads its sheets."""
    draft = not (number and signer and day)
    content = Content("Báo cáo", summary_line(c)).frame(
        registry_document,
        year=document_year(c) if draft else day.year,  # type: ignore[union-attr]
        number=None if draft else number,
        signer=None if draft else signer,
        day=None if draft else day,
    )
    if draft:
        content.draft_note = f"Tổng hợp ngày {c.as_of}; chưa được phê duyệt."
    issuer, ministry = content.issuer, registry_document["ministry"]["name"]
    agencies, indicators = agency_table(c), indicator_table(c, series or {})
    content.blocks = [
        Para(
            f"Thực hiện {c.decision} ban hành {c.programme}, {issuer} báo cáo kết quả thực hiện "
            f"năm {c.year} như sau:"
        ),
        Heading("I. Kết quả triển khai thực hiện", 1),
        *_reporting(c, agencies),
        *_tasks(c),
        *_indicators(c, indicators),
        *_listing(
            "II. Khó khăn, vướng mắc",
            [(e.agency, e.difficulties) for e in c.difficulties],
            "Các cơ quan, đơn vị không nêu khó khăn, vướng mắc.",
        ),
        *_listing(
            "III. Đề xuất điều chỉnh nội dung Chương trình",
            [(a["agency"], a["text"]) for a in c.adjustments],
            "Không có đề xuất điều chỉnh.",
        ),
        Heading("IV. Kiến nghị", 1),
        Para(f"Kính đề nghị {ministry} quan tâm, xem xét các kiến nghị của các cơ quan, đơn vị:"),
        *[Para(r["text"], lead=r["agency"], bullet=True) for r in c.recommendations],
        *([] if c.recommendations else [Para("Không có kiến nghị.", bullet=True)]),
        Para(
            f"Trên đây là báo cáo kết quả thực hiện {c.short_name} năm {c.year} của {issuer}./."
        ),
    ]
    if c.indicators:
        content.appendix = _appendix(c, issuer, None if draft else number, day)
    content.annex = annex_sheets(c, indicators, agencies, agency_values)
    content.annex_reference = annex_reference
    content.annex_title = f"Phụ lục báo cáo năm {c.year}"
    content.chart_names = {i.code: f"{i.number}. {i.name}" for i in c.indicators}
    content.chart_names["overview"] = "Tiến độ thực hiện các chỉ tiêu"
    return content
