"""Open an evaluation round: each agency's request email, with what the system already knows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from config.settings import Settings
from documents.indicators import target_text, value_text
from mail.compose import Attachment
from models.cycles import ensure_requests
from models.observations import Observed, observations_for
from models.orm import Cycle, Programme, Request
from reporting.evaluation_excel import build_evaluation_form, evaluation_form_name
from reporting.evaluation_intake import evaluation_years
from reporting.messages import link_for
from reporting.requests import XLSX_TYPE, RequestRow, queue_each


def known_series(
    programme: Programme, years: list[int], *, session: Session
) -> dict[int, dict[str, Observed]]:
    """Year -> indicator code -> provincial value already stored (imported or consolidated)."""
    return {year: observations_for(programme, year, session=session) for year in years}


def _request_context(
    request: Request, known: dict[int, dict[str, Observed]], years: list[int]
) -> dict[str, object]:
    rows = []
    for indicator in request.agency.indicators:
        cells = []
        for year in years:
            seen = known.get(year, {}).get(indicator.code)
            text = value_text(indicator, seen.value, seen.achieved) if seen else "Chưa có"
            cells.append({"year": year, "text": text})
        rows.append(
            {
                "number": indicator.number,
                "name": indicator.name,
                "unit": indicator.unit,
                "target": target_text(indicator),
                "years": cells,
            }
        )
    groups = [{"number": g.number, "name": g.name} for g in request.agency.task_groups]
    return {"indicators": rows, "task_groups": groups, "years": years}


def evaluation_attachment(
    request: Request, known: dict[int, dict[str, Observed]], settings: Settings
) -> Attachment:
    """The agency's pre-filled evaluation workbook, named in Vietnamese."""
    content = build_evaluation_form(request, known=known, link=link_for(request, settings)[0])
    return Attachment(evaluation_form_name(request), content, XLSX_TYPE)


def queue_evaluation_requests(
    cycle: Cycle,
    *,
    session: Session,
    settings: Settings,
    now: dt.datetime,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> list[RequestRow]:
    """Create missing requests and queue each agency's evaluation request email once."""
    requests = ensure_requests(cycle, session=session)
    years = evaluation_years(cycle)
    known = known_series(cycle.programme, years, session=session)
    return queue_each(
        requests,
        lambda request: (
            _request_context(request, known, years),
            [evaluation_attachment(request, known, settings)],
        ),
        session=session,
        settings=settings,
        now=now,
        progress=progress,
    )
