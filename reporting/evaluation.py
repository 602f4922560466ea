"""Assess an evaluation round: each indicator's path toward its target, and what agencies said.

The mid-term review (sơ kết, 2025) rates every indicator by the Open SDG progress measure
(:mod:`reporting.progress`) from the programme's baseline year; the final review (tổng kết,
the target year) compares the target-year value with the target directly. The series of each
indicator is what its reporting agency gave in the round, year by year, completed by the
provincial values already stored (imported history, yearly consolidations).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents.indicators import target_text, value_text
from documents.labels import REVIEW_TEXT, Progress
from documents.report_data import Evaluation, IndicatorEvaluation
from models.cycles import current_submission, cycle_requests
from models.indicators import meets_target
from models.observations import observations_for
from models.orm import Cycle, CycleKind, EvaluationNarrative, EvaluationValue, Indicator
from reporting.consolidation import consolidate
from reporting.evaluation_intake import NARRATIVE_FIELDS, evaluation_years
from reporting.progress import Assessment, assess


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def assess_indicator(
    indicator: Indicator,
    series: dict[int, Decimal | bool | None],
    *,
    baseline_year: int,
    target_year: int,
    year: int,
    final: bool,
) -> Assessment:
    """The progress measure; at the final review the round's value is compared directly."""
    measured = assess(
        indicator.rule,
        indicator.target,
        series,
        baseline_year=baseline_year,
        target_year=target_year,
        tolerance=indicator.tolerance,
    )
    if not final or measured.status == Progress.NO_TARGET:
        return measured
    latest = series.get(year)
    if latest is None:
        return Assessment(Progress.INSUFFICIENT_DATA, note=f"Chưa có số liệu năm {year}.")
    yes_no = indicator.kind == "yes_no"
    met = meets_target(
        indicator.rule,
        indicator.target,
        None if yes_no else latest,
        latest if yes_no else None,
        indicator.tolerance,
    )
    if met:
        return Assessment(Progress.ACHIEVED, worsening=measured.worsening, note=measured.note)
    return Assessment(Progress.NOT_ACHIEVED, note=f"Năm {year} chưa đạt mục tiêu.")


def _agency_series(cycle: Cycle, *, session: Session) -> dict[str, dict[int, tuple]]:
    """Indicator code -> year -> (value, achieved), from each request's current revision."""
    found: dict[str, dict[int, tuple]] = {}
    current = [s for r in cycle_requests(cycle, session=session) if (s := current_submission(r))]
    for submission in current:
        for value in submission.values:
            found.setdefault(value.indicator.code, {})[cycle.year] = (value.value, value.achieved)
    if current:
        rows = session.scalars(
            select(EvaluationValue).where(
                EvaluationValue.submission_id.in_([s.id for s in current])
            )
        )
        for row in rows:
            found.setdefault(row.indicator.code, {})[row.year] = (row.value, row.achieved)
    return found


def _narratives(cycle: Cycle, *, session: Session) -> dict[str, list[dict[str, str]]]:
    by_field: dict[str, list[dict[str, str]]] = {f: [] for f in NARRATIVE_FIELDS}
    for request in cycle_requests(cycle, session=session):
        submission = current_submission(request)
        if submission is None:
            continue
        narrative = session.scalar(
            select(EvaluationNarrative).where(EvaluationNarrative.submission_id == submission.id)
        )
        for name in NARRATIVE_FIELDS:
            text = getattr(narrative, name) if narrative else ""
            if text:
                by_field[name].append({"agency": request.agency.name, "text": text})
    return by_field


def evaluate(cycle: Cycle, *, session: Session, as_of: dt.datetime) -> Evaluation:
    """The round's evaluation from the current revision of every request."""
    if cycle.kind == CycleKind.ANNUAL:
        raise ValueError(f"cycle {cycle.year} is a yearly cycle, not an evaluation round")
    programme = cycle.programme
    base = consolidate(cycle, session=session, as_of=as_of)
    years = evaluation_years(cycle)
    stored = {year: observations_for(programme, year, session=session) for year in years}
    given = _agency_series(cycle, session=session)
    reporters = {row.code: row.reporter for row in base.indicators}
    indicators = []
    for indicator in programme.indicators:
        yes_no = indicator.kind == "yes_no"
        series: dict[int, Decimal | bool | None] = {}
        sources: dict[int, str] = {}
        texts = []
        for year in years:
            if year in given.get(indicator.code, {}):
                value, achieved = given[indicator.code][year]
                sources[year] = "agency"
            elif indicator.code in stored[year]:
                seen = stored[year][indicator.code]
                value, achieved = seen.value, seen.achieved
                sources[year] = "stored"
            else:
                value = achieved = None
            series[year] = achieved if yes_no else value
            texts.append({"year": str(year), "value": value_text(indicator, value, achieved)})
        result = assess_indicator(
            indicator,
            series,
            baseline_year=programme.baseline_year,
            target_year=programme.target_year,
            year=cycle.year,
            final=cycle.kind == CycleKind.FINAL,
        )
        indicators.append(
            IndicatorEvaluation(
                number=indicator.number,
                code=indicator.code,
                name=indicator.name,
                unit=indicator.unit,
                kind=indicator.kind,
                rule=indicator.rule,
                reporter=reporters.get(indicator.code, "—"),
                target=target_text(indicator),
                target_value=_number(indicator.target),
                series={
                    y: (v if isinstance(v, bool) or v is None else float(v))
                    for y, v in series.items()
                },
                series_text=texts,
                sources=sources,
                status=result.status.value,
                status_text=result.status.text,
                ratio=result.ratio,
                worsening=result.worsening,
                note=result.note,
            )
        )
    return Evaluation(
        programme=base.programme,
        short_name=base.short_name,
        decision=base.decision,
        province=base.province,
        kind=cycle.kind,
        review=REVIEW_TEXT[CycleKind(cycle.kind)],
        year=cycle.year,
        baseline_year=programme.baseline_year,
        target_year=programme.target_year,
        years=years,
        deadline=base.deadline,
        as_of=base.as_of,
        requested=base.requested,
        on_time=base.on_time,
        late=base.late,
        missing=base.missing,
        agencies=base.agencies,
        indicators=indicators,
        status_counts=dict(Counter(i.status for i in indicators)),
        task_groups=base.task_groups,
        narratives=_narratives(cycle, session=session),
        undelivered=base.undelivered,
    )
