"""The two forms an agency reports on: the yearly report's and a review round's (the mid-term
and the final review share it). Each says how its web form is read, started and accepted, how
its Excel workbook is built, read and stored, and which of the intake's extra steps apply
(confirming implausible values, asking for more time, answering by email with the workbook).

A cycle's form is ``kind_of(cycle).form`` (:mod:`reporting.cycle_kinds`); callers ask it
instead of testing the cycle's kind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, object_session

from config.settings import Settings
from models.drafts import load_draft
from models.observations import observations_for
from models.orm import Channel, Request, Submission
from reporting import evaluation_form, form_fields
from reporting.evaluation_excel import (
    build_evaluation_form,
    import_evaluation_form,
    read_evaluation_form,
)
from reporting.evaluation_intake import accept_evaluation, acknowledge_evaluation, evaluation_years
from reporting.evaluation_requests import known_series
from reporting.excel_import import import_form
from reporting.excel_reader import read_form
from reporting.form_binding import signed_form
from reporting.intake import accept_submission, acknowledge
from reporting.submission_input import FieldError

# (request, fields, *, session, settings, channel, submitted_by, now) -> the stored revision
AcceptFields = Callable[..., Submission]
# (read workbook, request, *, session, settings, channel, submitted_by, now) -> the revision
StoreWorkbook = Callable[..., Submission]
# (request, *, session, link) -> the .xlsx bytes
BuildWorkbook = Callable[..., bytes]


@dataclass(frozen=True)
class ReportForm:
    """One form agencies report on, by web page or Excel workbook."""

    page_template: str  # the web form's template under portal/
    receipt_template: str  # the receipt page's template under portal/
    confirms_plausibility: bool  # values that look wrong are shown back to be confirmed
    offers_extensions: bool  # an agency may ask for more time
    takes_email_replies: bool  # a workbook sent back by email is stored
    read_fields: Callable[[dict[str, Any], Request], dict[str, str]]  # the posted inputs
    errors_by_input: Callable[[list[FieldError]], dict[str, str]]  # intake errors by input
    start_fields: Callable[..., dict[str, str]]  # (request, *, session): without a draft
    page_rows: Callable[..., dict[str, object]]  # (request, *, session): what the page asks
    accept_fields: AcceptFields  # validate and store the posted fields, acknowledge them
    build_workbook: BuildWorkbook
    read_workbook: Callable[..., object]  # (bytes, *, max_bytes): ExcelFormError if wrong
    store_workbook: StoreWorkbook  # record a read workbook, acknowledge it

    def current_fields(self, request: Request) -> dict[str, str]:
        """What the form starts from: the agency's draft, else :attr:`start_fields`."""
        session = object_session(request)
        fields = load_draft(request, session=session)
        return self.start_fields(request, session=session) if fields is None else fields


def yearly_start(request: Request, *, session: Session) -> dict[str, str]:
    """The latest revision's values, else an empty form."""
    return form_fields.from_submission(request.submissions[-1]) if request.submissions else {}


def yearly_rows(request: Request, *, session: Session) -> dict[str, object]:
    """The indicators with last year's values, and the task groups."""
    cycle = request.cycle
    previous = observations_for(cycle.programme, cycle.year - 1, session=session)
    return form_fields.page_rows(request, previous)


def accept_yearly(request: Request, fields: dict[str, str], **intake: Any) -> Submission:
    return accept_submission(request, form_fields.to_submission(fields, request), **intake)


def build_yearly_workbook(
    request: Request, *, session: Session, link: str
) -> bytes:
    """The signed form with last year's values and the agency's draft or latest revision, to
    correct in Excel."""
    cycle = request.cycle
    previous = observations_for(cycle.programme, cycle.year - 1, session=session)
    fields = YEARLY_FORM.current_fields(request)
    return signed_form(request, previous=previous, link=link, fields=fields)


def store_yearly_workbook(
    read: object,
    request: Request,
    *,
    session: Session,
    settings: Settings,
    channel: Channel,
    submitted_by: str,
    now: dt.datetime,
) -> Submission:
    submission = import_form(
        read,
        session=session,
        channel=channel,
        expected_request=request,
        submitted_by=submitted_by,
        submitted_at=now,
    )
    acknowledge(submission, session=session, settings=settings, now=now)
    return submission


def evaluation_start(request: Request, *, session: Session) -> dict[str, str]:
    """The latest revision's values, else the provincial values already known."""
    if request.submissions:
        return evaluation_form.from_submission(request.submissions[-1], session=session)
    return evaluation_form.prefilled(request, session=session)


def evaluation_rows(request: Request, *, session: Session) -> dict[str, object]:
    return evaluation_form.page_rows(request)


def accept_evaluation_fields(request: Request, fields: dict[str, str], **intake: Any) -> Submission:
    return accept_evaluation(request, evaluation_form.to_input(fields, request), **intake)


def build_evaluation_workbook(request: Request, *, session: Session, link: str) -> bytes:
    """The round's form with the values already known."""
    cycle = request.cycle
    known = known_series(cycle.programme, evaluation_years(cycle), session=session)
    return build_evaluation_form(request, known=known, link=link)


def store_evaluation_workbook(
    read: object,
    request: Request,
    *,
    session: Session,
    settings: Settings,
    channel: Channel,
    submitted_by: str,
    now: dt.datetime,
) -> Submission:
    submission = import_evaluation_form(
        read,
        request,
        session=session,
        channel=channel,
        submitted_by=submitted_by,
        submitted_at=now,
    )
    acknowledge_evaluation(submission, session=session, settings=settings, now=now)
    return submission


YEARLY_FORM = ReportForm(
    page_template="form",
    receipt_template="receipt",
    confirms_plausibility=True,
    offers_extensions=True,
    takes_email_replies=True,
    read_fields=form_fields.read_fields,
    errors_by_input=form_fields.errors_by_input,
    start_fields=yearly_start,
    page_rows=yearly_rows,
    accept_fields=accept_yearly,
    build_workbook=build_yearly_workbook,
    read_workbook=read_form,
    store_workbook=store_yearly_workbook,
)

EVALUATION_FORM = ReportForm(
    page_template="evaluation_form",
    receipt_template="evaluation_receipt",
    confirms_plausibility=False,
    offers_extensions=False,
    takes_email_replies=False,
    read_fields=evaluation_form.read_fields,
    errors_by_input=form_fields.errors_by_input,
    start_fields=evaluation_start,
    page_rows=evaluation_rows,
    accept_fields=accept_evaluation_fields,
    build_workbook=build_evaluation_workbook,
    read_workbook=read_evaluation_form,
    store_workbook=store_evaluation_workbook,
)
