"""Consolidate a cycle of any kind into its report: the yearly report's indicator and agency
tables, or a review's evaluation of every target, stored as a draft revision (Markdown and HTML
in the database; DOCX, XLSX annex and HTML under ``R42_CYCLE__REPORTS_DIR``)."""

import datetime as dt

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from config.settings import get_settings
from documents.chart_process import ChartProcess
from documents.content_markdown import artifact_markdown
from documents.report_data import AgencyRow, data_hash
from documents.stored_report import read_consolidation, read_evaluation
from flows.artifact_tables import (
    agencies_table,
    evaluated_table,
    extensions_table,
    flagged_table,
    indicators_table,
)
from flows.common import CycleRef, artifact_key, cycle_ref, report_name, run_scope
from flows.parameters import KIND, Kind
from models.cycles import get_cycle
from models.database import session_scope
from models.orm import CycleKind, ReportStatus
from models.reports import kept_revision, save_draft
from reporting.cycle_kinds import build_report_files, kind_of
from reporting.report_files import cycle_folder


@task(cache_policy=NO_CACHE)
def build_draft(cycle: CycleRef, now: dt.datetime) -> dict:
    """Consolidate, store a new draft revision if the content changed, write its files."""
    # The chart process imports matplotlib while this one consolidates (documents.chart_process).
    with session_scope() as session, ChartProcess() as charts:
        row = get_cycle(cycle.programme, cycle.year, session=session, kind=cycle.kind)
        kind = kind_of(row)
        data = kind.consolidated(row, session=session, as_of=now)
        content_hash = data_hash(data)
        kept = kept_revision(row, content_hash, session=session)
        kind.draw_charts(charts, row, kept.data if kept else data, session=session)
        if kept is not None:
            report, created = kept, False
        else:
            report, created = save_draft(
                row,
                session=session,
                content_hash=content_hash,
                data=data,
                markdown="",
                html="",
                now=now,
            )
        draft = report.status in (ReportStatus.DRAFT, ReportStatus.RETURNED)
        files = build_report_files(report, session=session, draft=draft, now=now, charts=charts)
        if created:  # the draft's text, stored with it: the same content as its files
            report.markdown, report.html = files.markdown, files.body_html
        paths = files.write(cycle_folder(get_settings().cycle.reports_dir, row))
        return {
            "revision": report.revision,
            "created": created,
            "status": str(report.status),
            "data": report.data,
            "markdown": artifact_markdown(
                files.markdown, files.charts.overview, {k.upper(): str(p) for k, p in paths.items()}
            ),
            "files": {ext: str(path) for ext, path in paths.items()},
        }


def publish_agencies(cycle: CycleRef, agencies: list[AgencyRow], data: dict) -> None:
    """Who reported and when, as a table artifact (every kind of cycle)."""
    create_table_artifact(
        key=artifact_key("agencies", cycle),
        table=agencies_table(agencies),
        description=f"{report_name(cycle).capitalize()}: {data['on_time']} đúng hạn, "
        f"{data['late']} trễ hạn, {data['missing']} chưa gửi / {data['requested']} cơ quan",
    )


def publish_yearly_tables(cycle: CycleRef, data: dict) -> None:
    """Who reported, the targets, the flagged values and the extensions, as table artifacts."""
    year, stored = cycle.year, read_consolidation(data)
    publish_agencies(cycle, stored.agencies, data)
    create_table_artifact(
        key=artifact_key("indicators", cycle),
        table=indicators_table(stored.indicators),
        description=f"Số liệu toàn tỉnh năm {year} so với mục tiêu đến năm {data['target_year']}",
    )
    flagged = stored.flagged  # a revision stored before flags has none
    create_table_artifact(
        key=artifact_key("flagged-values", cycle),
        table=flagged_table(flagged),
        description=f"{len(flagged)} số liệu năm {year} bất thường: kiểm tra trước khi phê duyệt"
        if flagged
        else f"Không có số liệu năm {year} bất thường",
    )
    extensions = stored.extensions  # a revision stored before extensions has none
    create_table_artifact(
        key=artifact_key("extensions", cycle),
        table=extensions_table(extensions),
        description=f"{len(extensions)} cơ quan được gia hạn năm {year} (đúng hạn: gửi đến hết "
        "ngày được gia hạn)"
        if extensions
        else f"Không có cơ quan được gia hạn năm {year}",
    )


def publish_review_tables(cycle: CycleRef, data: dict) -> None:
    """Who answered and each target's assessment over the years, as table artifacts."""
    evaluation = read_evaluation(data)
    publish_agencies(cycle, evaluation.agencies, data)
    create_table_artifact(
        key=artifact_key("indicators", cycle),
        table=evaluated_table(evaluation.indicators),
        description=f"Tiến độ các chỉ tiêu, {report_name(cycle)}",
    )


@flow(name="consolidate")
def consolidate_flow(
    year: int | None = None,
    programme: str | None = None,
    as_of: dt.datetime | None = None,
    kind: Kind = KIND,
) -> dict:
    """Consolidate the cycle of ``kind`` for ``year``: who reported, values against targets
    (a review: each target's progress over the years), a draft report."""
    scope = run_scope(year, programme, as_of)
    cycle = cycle_ref(scope.programme, scope.year, kind)
    draft = build_draft(cycle, scope.now)
    if cycle.kind == CycleKind.ANNUAL:
        publish_yearly_tables(cycle, draft["data"])
    else:
        publish_review_tables(cycle, draft["data"])
    create_markdown_artifact(
        key=artifact_key("draft-report", cycle),
        markdown=draft["markdown"],
        description=f"Dự thảo {report_name(cycle)}, lần {draft['revision']}",
    )
    get_run_logger().info(
        "Report revision %d (%s): %s",
        draft["revision"],
        "new" if draft["created"] else "unchanged",
        ", ".join(draft["files"].values()),
    )
    return {key: draft[key] for key in ("revision", "created", "status")}
