"""Consolidate the year's reports into indicator and agency tables and a draft report
(Markdown in the database, DOCX, XLSX annex and HTML under ``R42_CYCLE__REPORTS_DIR``)."""

import datetime as dt

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from config.settings import get_settings
from documents.chart_process import ChartProcess
from documents.content_markdown import artifact_markdown
from documents.report_data import data_hash
from documents.stored_report import read_consolidation
from flows.artifact_tables import (
    agencies_table,
    extensions_table,
    flagged_table,
    indicators_table,
)
from flows.common import CycleRef, cycle_ref, run_scope
from models.cycles import get_cycle
from models.database import session_scope
from models.observations import record_observations
from models.orm import ReportStatus
from models.reports import kept_revision, save_draft
from reporting.consolidation import consolidate, provincial_values
from reporting.report_files import build_report_files, cycle_folder, draw_charts


@task(cache_policy=NO_CACHE)
def build_draft(cycle: CycleRef, now: dt.datetime) -> dict:
    """Consolidate, store a new draft revision if the content changed, write its files."""
    # The chart process imports matplotlib while this one consolidates (documents.chart_process).
    with session_scope() as session, ChartProcess() as charts:
        row = get_cycle(cycle.programme, cycle.year, session=session)
        consolidation = consolidate(row, session=session, as_of=now)
        data = consolidation.as_data()
        content_hash = data_hash(data)
        record_observations(
            row.programme,
            row.year,
            provincial_values(consolidation),
            session=session,
            source="consolidation",
        )
        kept = kept_revision(row, content_hash, session=session)
        draw_charts(charts, row, kept.data if kept else data, session=session)
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


@flow(name="consolidate")
def consolidate_flow(
    year: int | None = None, programme: str | None = None, as_of: dt.datetime | None = None
) -> dict:
    """Consolidate the cycle of ``year``: who reported, values against targets, a draft report."""
    scope = run_scope(year, programme, as_of)
    programme, year, now = scope.programme, scope.year, scope.now
    cycle = cycle_ref(programme, year)
    draft = build_draft(cycle, now)
    data = draft["data"]
    stored = read_consolidation(data)
    create_table_artifact(
        key=f"agencies-{programme}-{year}",
        table=agencies_table(stored.agencies),
        description=f"Reports received for {year}: {data['on_time']} on time, {data['late']} late, "
        f"{data['missing']} missing of {data['requested']}",
    )
    create_table_artifact(
        key=f"indicators-{programme}-{year}",
        table=indicators_table(stored.indicators),
        description=f"Provincial values {year} against the {data['target_year']} targets",
    )
    flagged = stored.flagged  # a revision stored before flags has none
    create_table_artifact(
        key=f"flagged-values-{programme}-{year}",
        table=flagged_table(flagged),
        description=f"{len(flagged)} value(s) {year} flagged as implausible: check before approving"
        if flagged
        else f"No value {year} flagged as implausible",
    )
    extensions = stored.extensions  # a revision stored before extensions has none
    create_table_artifact(
        key=f"extensions-{programme}-{year}",
        table=extensions_table(extensions),
        description=f"{len(extensions)} agency(ies) granted more time for {year} (on time = "
        "by their own date)"
        if extensions
        else f"No agency granted more time for {year}",
    )
    create_markdown_artifact(
        key=f"draft-report-{programme}-{year}",
        markdown=draft["markdown"],
        description=f"Draft report {year}, revision {draft['revision']}",
    )
    get_run_logger().info(
        "Report revision %d (%s): %s",
        draft["revision"],
        "new" if draft["created"] else "unchanged",
        ", ".join(draft["files"].values()),
    )
    return {key: draft[key] for key in ("revision", "created", "status")}
