"""Consolidate a cycle: provincial values against targets, who reported, what was done."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from documents.indicators import target_text, value_text
from documents.report_data import (
    AgencyRow,
    Consolidation,
    ExtensionRow,
    IndicatorRow,
    TaskEntry,
    TaskGroupSummary,
    Undelivered,
    by_agency,
)
from documents.vietnamese import format_date
from mail.queue import undelivered
from models.cycles import cycle_requests, local_today
from models.extensions import cycle_extensions
from models.indicators import meets_target
from models.observations import Observed, observations_for
from models.orm import Cycle, ExtensionStatus, Request, Submission
from models.submissions import current_values
from reporting.stored_flags import flagged_rows
from reporting.progress import Assessment, assess


def _trend(current, previous) -> str | None:
    if current is None or previous is None:
        return None
    return "up" if current > previous else "down" if current < previous else "same"


def _progress(indicator, observed: dict[int, Observed | None], cycle: Cycle) -> Assessment:  # type: ignore[no-untyped-def]
    """The status (and R) of the current value against the baseline year's; a target met but
    worse than the year before is marked as worsening."""
    programme = cycle.programme
    series: dict[int, object] = {}
    for year, seen in sorted(observed.items()):
        if seen is not None:
            series[year] = seen.achieved if indicator.kind == "yes_no" else seen.value
    result = assess(
        indicator.rule,
        indicator.target,
        series,
        baseline_year=programme.baseline_year,
        target_year=programme.target_year,
        tolerance=indicator.tolerance,
    )
    return result


def _load_latest_submissions(requests: list[Request], *, session: Session) -> None:
    """Values and task reports of every latest revision in a few queries, not two per agency."""
    latest = [r.submissions[-1].id for r in requests if r.submissions]
    for start in range(0, len(latest), 1000):
        session.scalars(
            select(Submission)
            .where(Submission.id.in_(latest[start : start + 1000]))
            .options(selectinload(Submission.values), selectinload(Submission.task_reports))
        ).all()


def consolidate(cycle: Cycle, *, session: Session, as_of: dt.datetime) -> Consolidation:
    """Compute the cycle's consolidation from the current submission of every request."""
    requests = cycle_requests(cycle, session=session)
    _load_latest_submissions(requests, session=session)
    agencies, counts = [], {"on_time": 0, "late": 0, "missing": 0, "returned": 0}
    task_entries: dict[str, list[TaskEntry]] = {}
    adjustments: list[dict[str, str]] = []
    said: list[tuple[str, str]] = []  # (agency, difficulties) of each task report
    counted: list[tuple[str, Submission]] = []  # (agency, revision) of each counted report
    for request in requests:
        agency, latest = request.agency, (request.submissions or [None])[-1]
        if latest is None:
            status = "missing"
        elif latest.status == "returned":
            status = "returned"
        else:
            status = "late" if latest.is_late else "on_time"
        counts[status] += 1
        agencies.append(
            AgencyRow(
                agency.code,
                agency.name,
                agency.kind,
                status,
                format_date(local_today(cycle.programme, latest.submitted_at)) if latest else None,
                len(request.submissions),
                latest.channel if latest else None,
            )
        )
        if status not in ("on_time", "late"):
            continue
        counted.append((agency.name, latest))
        for report in latest.task_reports:
            entry = TaskEntry(
                agency.name,
                report.status,
                report.results,
                report.difficulties,
                report.proposals,
            )
            task_entries.setdefault(report.task_group.code, []).append(entry)
            said.append((agency.name, report.difficulties))
        if latest.adjustment_proposals:
            adjustments.append({"agency": agency.name, "text": latest.adjustment_proposals})

    values = current_values(requests)
    previous = observations_for(cycle.programme, cycle.year - 1, session=session)
    baseline = observations_for(cycle.programme, cycle.programme.baseline_year, session=session)
    reporters = {i.code: r.agency.name for r in requests for i in r.agency.indicators}
    indicators = []
    for indicator in cycle.programme.indicators:
        current, last = values.get(indicator.code), previous.get(indicator.code)
        met = meets_target(
            indicator.rule,
            indicator.target,
            current.value if current else None,
            current.achieved if current else None,
            indicator.tolerance,
        )
        result = _progress(
            indicator,
            {  # the year before only beside this year's value: "worse than it?"
                cycle.programme.baseline_year: baseline.get(indicator.code),
                cycle.year - 1: last if current else None,
                cycle.year: current,
            },
            cycle,
        )
        indicators.append(
            IndicatorRow(
                indicator.number,
                indicator.code,
                indicator.name,
                indicator.unit,
                indicator.rule,
                reporters.get(indicator.code, "—"),
                target_text(indicator),
                value_text(indicator, current.value, current.achieved) if current else "—",
                value_text(indicator, last.value, last.achieved) if last else "—",
                met,
                _trend(current.value if current else None, last.value if last else None),
                current.note if current else "",
                result.status.value,
                result.ratio,
                result.worsening,
            )
        )

    leads = cycle.registry_version.document["task_group_leads"]
    names = {a.code: a.name for a in cycle.registry_version.agencies}
    groups = [
        TaskGroupSummary(
            g.number, g.name, names.get(leads.get(g.code), "—"), task_entries.get(g.code, [])
        )
        for g in cycle.programme.task_groups
    ]
    programme = cycle.programme
    return Consolidation(
        programme=programme.name,
        short_name=programme.short_name,
        decision=programme.decision,
        province=cycle.registry_version.document["province"],
        year=cycle.year,
        kind=cycle.kind,
        deadline=format_date(cycle.deadline),
        as_of=format_date(local_today(programme, as_of)),
        target_year=programme.target_year,
        baseline_year=programme.baseline_year,
        requested=len(requests),
        on_time=counts["on_time"],
        late=counts["late"],
        missing=counts["missing"] + counts["returned"],
        agencies=agencies,
        indicators=indicators,
        task_groups=groups,
        difficulties=[
            TaskEntry(agency, "", "", "\n".join(texts), "")
            for agency, texts in by_agency(said).items()
        ],
        adjustments=adjustments,
        recommendations=[
            {"agency": agency, "text": "\n".join(texts)}
            for agency, texts in by_agency(
                (e.agency, e.proposals) for g in groups for e in g.entries
            ).items()
        ],
        undelivered=[
            Undelivered(
                m.agency.name if m.agency else m.recipient_key,
                m.kind,
                m.status,
                # Who did not get it, and what their server said (a partial one reached others).
                "; ".join(
                    f"{r.address}: {r.last_reply or m.last_reply or ''}".rstrip(": ")
                    for r in m.recipients
                    if r.status != "sent"
                ),
            )
            for m in undelivered(cycle.id, session=session)
        ],
        values={
            code: [str(v.value) if v.value is not None else None, v.achieved]
            for code, v in values.items()
        },
        flagged=flagged_rows(counted),
        extensions=granted_extensions(cycle, agencies, session=session),
    )


def granted_extensions(
    cycle: Cycle, agencies: list[AgencyRow], *, session: Session
) -> list[ExtensionRow]:
    """Each agency's latest grant of more time, with the reason, and how it then reported
    (on time means by its own date: the late flag counts from it)."""
    standing = {a.code: a for a in agencies}
    latest = {}
    for extension in cycle_extensions(cycle, session=session, status=ExtensionStatus.GRANTED):
        latest[extension.request.agency.code] = extension  # oldest first: the last one wins
    rows = []
    for code, e in latest.items():
        row = standing.get(code)
        rows.append(
            ExtensionRow(
                e.request.agency.name,
                format_date(e.granted_until),
                format_date(e.requested_until),
                e.reason,
                e.note,
                row.status if row else "missing",
            )
        )
    return rows


def provincial_values(consolidation: Consolidation) -> dict[str, Observed]:
    """The consolidated values, as observations of the cycle's year."""
    return {
        code: Observed(Decimal(value) if value is not None else None, achieved)
        for code, (value, achieved) in consolidation.values.items()
    }
