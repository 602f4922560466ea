"""What the evaluation report says, as :mod:`documents.content` blocks the shared DOCX, HTML and
Markdown renderers walk (the yearly report's: ``reporting.yearly_content``).

One definition of the content (headings, paragraphs, tables, charts) keeps the formats saying
the same thing; each renderer only decides how a block looks.
"""

from __future__ import annotations

from documents.content import AnnexSheet, Block, Charts, Content, Heading, Para, TableBlock
from documents.evaluation_annex import annex_tables, fitted_columns
from documents.labels import NARRATIVE_LABELS, Progress
from documents.progress_method import method_paragraphs
from documents.report_data import Evaluation, by_agency


def summary_line(evaluation: Evaluation) -> str:
    return (
        f"{evaluation.review.capitalize()} việc thực hiện {evaluation.short_name} "
        f"giai đoạn {evaluation.baseline_year}-{evaluation.year}"
    )


def evaluation_method(evaluation: Evaluation) -> list[str]:
    """How every status in the report was decided: the formula, thresholds, zero rule, strict
    bounds and "too few years" (Open SDG's progress measure, as sdg-build computes it)."""
    e = evaluation
    first = (
        f"Tại kỳ tổng kết, mỗi chỉ tiêu được so sánh trực tiếp số liệu năm {e.year} với mục "
        f"tiêu đến năm {e.target_year} theo đúng quy tắc của chỉ tiêu: đạt hoặc chưa đạt. "
        "Phương pháp đo tiến độ của Open SDG (dùng ở kỳ sơ kết) được tóm tắt dưới đây để đối "
        "chiếu."
        if e.is_final
        else "Tiến độ mỗi chỉ tiêu được đánh giá theo phương pháp đo tiến độ của Open SDG "
        "(Cơ quan Thống kê Canada, dựa trên phương pháp của Eurostat), tóm tắt dưới đây."
    )
    return [first, *method_paragraphs(e.baseline_year, e.target_year)]


def _status_sentence(evaluation: Evaluation) -> str:
    counts = evaluation.status_counts
    parts = [
        f"{counts[s.value]} chỉ tiêu {s.text.lower()}" for s in Progress if counts.get(s.value)
    ]
    return f"Trong {len(evaluation.indicators)} chỉ tiêu: " + "; ".join(parts) + "."


def indicator_table(evaluation: Evaluation) -> TableBlock:
    years = [str(y) for y in evaluation.years]
    rows = []
    for i in evaluation.indicators:  # the unit is in the name's cell: a year's value without it
        values = {t["year"]: t["value"].removesuffix(f" {i.unit}") for t in i.series_text}
        rows.append(
            [str(i.number), f"{i.name} ({i.unit})", i.target]
            + [values.get(y, "—") for y in years]
            + [i.progress_text, i.note]
        )
    return TableBlock(
        ["STT", "Chỉ tiêu", "Mục tiêu"] + years + ["Đánh giá", "Ghi chú"],
        rows,
        ["center", "left", "left"] + ["right"] * len(years) + ["left", "left"],
        caption=f"Bảng 2. Kết quả thực hiện các chỉ tiêu đến năm {evaluation.year}",
    )


def agency_table(evaluation: Evaluation) -> TableBlock:
    rows: list[list] = [
        [str(n), a.name, a.status_text, a.submitted_on or "—", str(a.revisions)]
        for n, a in enumerate(evaluation.agencies, start=1)
    ]
    columns = ["STT", "Cơ quan, đơn vị", "Tình trạng", "Ngày gửi", "Số lần gửi"]
    caption = "Bảng 1. Tình hình gửi báo cáo của các cơ quan, đơn vị"
    return TableBlock(
        columns,
        rows,
        ["center", "left", "left", "center", "center"],
        caption=caption,
        annex=AnnexSheet("Đơn vị báo cáo", caption, fitted_columns(columns, rows)),
    )


def _narrative(evaluation: Evaluation, name: str, empty: str) -> list[Block]:
    entries = evaluation.narratives.get(name, [])
    if not entries:
        return [Para(empty)]
    return [Para(e["text"], lead=e["agency"], bullet=True) for e in entries]


def _said(evaluation: Evaluation, part: str) -> list[Block]:
    """What agencies wrote under ``part`` for their task groups: one entry per agency, each of
    its texts once."""
    said = by_agency(
        (x.agency, getattr(x, part)) for g in evaluation.task_groups for x in g.entries
    )
    return [Para("\n".join(texts), lead=agency, bullet=True) for agency, texts in said.items()]


def _directions(evaluation: Evaluation) -> list[Block]:
    """Part V: the indicators to speed up and those to turn around, named (mid-term only)."""
    e = evaluation
    if e.is_final:
        return []
    speed_up = [i.name for i in e.indicators if i.status == "acceleration_needed"]
    slow = [i.name for i in e.indicators if i.status == "limited_progress"]
    away = [i.name for i in e.indicators if i.status == "moving_away"]
    said = []
    if speed_up:
        said.append(
            f"Tập trung tăng tốc để đạt mục tiêu năm {e.target_year} đối với "
            f"{len(speed_up)} chỉ tiêu cần tăng tốc: " + "; ".join(speed_up) + "."
        )
    if slow:
        said.append(
            f"Có giải pháp mạnh hơn đối với {len(slow)} chỉ tiêu tiến bộ hạn chế: "
            + "; ".join(slow) + "."
        )
    if away:
        said.append(
            f"Rà soát nguyên nhân, có giải pháp đảo chiều xu hướng đối với {len(away)} chỉ tiêu "
            "đang đi ngược mục tiêu: " + "; ".join(away) + "."
        )
    return [Para(text) for text in said]


def build_content(evaluation: Evaluation) -> Content:
    """The report's content, in the order a Vietnamese evaluation report is read."""
    e = evaluation
    content = Content("BÁO CÁO", summary_line(e))
    add = content.blocks.extend
    agencies, indicators = agency_table(e), indicator_table(e)
    content.annex = annex_tables(
        e, heading=f"{content.summary} - {indicators.caption}", agencies=agencies
    )
    content.annex_title = f"Phụ lục - {content.summary}"
    missing = [a.name for a in e.agencies if a.status not in ("on_time", "late")]
    add(
        [
            Para(
                f"Thực hiện {e.decision} ban hành {e.programme}, Ủy ban nhân dân tỉnh "
                f"{e.province} báo cáo {e.review} việc thực hiện giai đoạn "
                f"{e.baseline_year}-{e.year} như sau:"
            ),
            Heading("I. Công tác triển khai và tổng hợp báo cáo"),
            Para(
                f"Có {e.reported}/{e.requested} cơ quan, đơn vị gửi báo cáo {e.review} "
                f"({e.on_time} đúng hạn, {e.late} trễ hạn; hạn {e.deadline}); "
                f"{e.missing} cơ quan, đơn vị chưa gửi báo cáo"
                + (f": {', '.join(missing)}." if missing else ".")
            ),
            agencies,
            Heading("II. Kết quả thực hiện"),
            Heading("1. Kết quả thực hiện các chỉ tiêu chủ yếu đến năm " + str(e.target_year), 2),
            *[Para(text) for text in evaluation_method(e)],
            Para(_status_sentence(e)),
            Charts(["overview"], caption="Hình 1. Tổng quan tiến độ các chỉ tiêu"),
            indicators,
            Charts(
                [i.code for i in e.indicators],
                caption="Hình 2. Số liệu theo năm, lộ trình từ năm gốc đến mục tiêu",
                grid=True,
            ),
            Heading("2. Kết quả thực hiện các nhóm nhiệm vụ, giải pháp", 2),
        ]
    )
    for group in e.task_groups:
        add([Heading(f"2.{group.number}. {group.name} (chủ trì: {group.lead})", 3)])
        if not group.entries:
            add([Para("Chưa có cơ quan, đơn vị báo cáo nội dung này.")])
        add(
            [
                Para(f"{x.results} ({x.status_text})", lead=x.agency, bullet=True)
                for x in group.entries
            ]
        )
    add([Heading("3. Đánh giá chung về kết quả đạt được", 2)])
    add(_narrative(e, "results", "Chưa có đánh giá chung từ các cơ quan, đơn vị."))
    add([Heading("III. " + NARRATIVE_LABELS["shortfall_causes"])])
    behind = [i for i in e.indicators if i.status in ("limited_progress", "moving_away")]
    behind += [i for i in e.indicators if i.status == "not_achieved"]
    if behind:
        add(
            [
                Para(
                    "Các chỉ tiêu chưa đạt hoặc tiến độ chậm: "
                    + "; ".join(f"{i.name} ({i.progress_text})" for i in behind)
                    + "."
                )
            ]
        )
    add(_narrative(e, "shortfall_causes", "Các cơ quan, đơn vị chưa nêu tồn tại, hạn chế."))
    add(_said(e, "difficulties"))
    add([Heading("IV. " + NARRATIVE_LABELS["lessons"])])
    add(_narrative(e, "lessons", "Các cơ quan, đơn vị chưa nêu bài học kinh nghiệm."))
    add([Heading("V. Phương hướng, " + NARRATIVE_LABELS["proposals"].lower())])
    add(_directions(e))
    add(_narrative(e, "proposals", "Các cơ quan, đơn vị chưa có đề xuất, kiến nghị."))
    add(_said(e, "proposals"))
    return content
