"""The programme as validated data: targets, task groups, agencies, deadline, reminder ladder.

This module is the schema; ``config.registry_files`` reads and cross-checks the files.
A programme lives in ``config/programmes/<code>/``:

* ``programme.yaml``: what never changes with a reorganisation (targets, task groups,
  opening day, deadline, reminder ladder, consolidation day, baseline year; the dates'
  schema is ``config.programme_calendar``);
* ``registry/<YYYY-MM-DD>.yaml``: one registry version per file, in force from the date in
  its name until the next one (agencies, standing agency, ministry, recipients, signer).

Every file is validated on load; a broken one raises :class:`RegistryError` naming the file
and the field.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

from config.programme_calendar import Deadline, MonthDay, calendar_problem, extension_problem
from config.targets import Code, Rule, Target, ValueKind  # noqa: F401 (the schema in one place)


def _plain_ascii(address: str) -> str:
    if not address.isascii():
        raise ValueError("addresses must be plain ASCII (mail servers here refuse others)")
    return address


# Any valid address: keeping a demo or a test away from real mailboxes is the transport's job
# (R42_MAIL__ALLOWED_DOMAINS, mail/allowed_domains.py), not the schema's.
MailAddress = Annotated[EmailStr, AfterValidator(_plain_ascii)]


def _known_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA timezone {name!r}") from None
    return name


class RegistryError(ValueError):
    """A registry file is missing, unreadable or invalid; the message names file and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaskGroup(_Strict):
    """One of the programme's groups of tasks and solutions."""

    code: Code = Field(description="Stable code of the task group.")
    number: int = Field(ge=1, description="Position in the programme (section II numbering).")
    name: str = Field(min_length=3, description="Vietnamese title of the group.")


class Programme(_Strict):
    """``programme.yaml``: what stays the same across registry versions."""

    code: str = Field(
        pattern=r"^[a-z][a-z0-9-]*$",  # no '_': it goes into Prefect artifact keys
        max_length=64,
        description="Programme code, the name of its folder (lowercase letters, digits, '-').",
    )
    name: str = Field(min_length=3, description="Vietnamese full name of the programme.")
    short_name: str = Field(min_length=3, description="Vietnamese short name used in subjects.")
    decision: str = Field(min_length=3, description="The decision that issued the programme.")
    province: str = Field(min_length=2, description="Province the programme belongs to.")
    target_year: int = Field(ge=2000, le=2100, description="Year the targets are set for.")
    baseline_year: int = Field(ge=2000, le=2100, description="Year progress is measured from.")
    timezone: Annotated[str, AfterValidator(_known_timezone)] = Field(
        description="IANA timezone of every date of the programme."
    )
    deadline: Deadline = Field(description="The yearly deadline of agencies' reports.")
    opening: MonthDay = Field(
        default=MonthDay(day=2, month=11),
        description="Day the yearly cycle opens (the cycle-calendar deployment opens it that "
        "morning); it must come before the first reminder.",
    )
    consolidation_days_after_deadline: int = Field(
        default=1,
        ge=1,
        le=60,
        description="Days after the last day reports count (after any weekend move) on which "
        "the cycle-calendar deployment consolidates the cycle: 1 is the day after.",
    )
    reminder_ladder: list[int] = Field(
        min_length=1, description="Reminder offsets in days from the deadline (negative: before)."
    )
    escalate_after_deadline: bool = Field(
        description="Whether reminders after the deadline copy the agency head."
    )
    deadline_inclusive: bool = Field(
        default=True,
        description="Whether the deadline's own day still counts: false for 'trước ngày 05/12' "
        "read literally (the last day is 04/12), before any weekend move.",
    )
    year_on_year_factor: Decimal = Field(
        default=Decimal(3),
        gt=1,
        le=1000,
        description="A value more than this many times the agency's last one, or less than its "
        "inverse, is flagged for confirmation (not refused).",
    )
    link_validity: Literal["days", "until_locked"] = Field(
        default="days",
        description="How long an agency's personal link works: 'days' for "
        "R42_WEB_FORM__LINK_VALID_DAYS from its own issue day, 'until_locked' until the cycle is "
        "locked for consolidation (a reopened cycle opens its links again).",
    )
    extension_max_days: int = Field(
        default=0,
        ge=0,
        le=60,
        description="How many days after the last day (after any weekend move) an agency may "
        "ask, on its web form, to report by; the coordinator grants or refuses each request. "
        "0: the form offers no extension (a coordinator may still grant one with r42 extend).",
    )
    targets: list[Target] = Field(min_length=1, description="The programme's targets.")
    task_groups: list[TaskGroup] = Field(min_length=1, description="The programme's task groups.")

    @model_validator(mode="after")
    def _unique(self) -> Programme:
        no_duplicates("targets", [t.code for t in self.targets])
        no_duplicates("targets.number", [t.number for t in self.targets])
        no_duplicates("task_groups", [g.code for g in self.task_groups])
        no_duplicates("task_groups.number", [g.number for g in self.task_groups])
        no_duplicates("reminder_ladder", self.reminder_ladder)
        if self.reminder_ladder != sorted(self.reminder_ladder):
            raise ValueError("reminder_ladder must be in increasing order")
        if not self.baseline_year < self.target_year:
            raise ValueError("baseline_year must come before target_year")
        problem = calendar_problem(
            self.opening,
            self.deadline,
            inclusive=self.deadline_inclusive,
            ladder=self.reminder_ladder,
            consolidation_days=self.consolidation_days_after_deadline,
        )
        if problem:
            raise ValueError(problem)
        problem = extension_problem(
            self.opening, self.deadline, inclusive=self.deadline_inclusive,
            max_days=self.extension_max_days,
        )
        if problem:
            raise ValueError(problem)
        return self

    def target(self, code: str) -> Target:
        return next(t for t in self.targets if t.code == code)


class AgencyKind(StrEnum):
    DEPARTMENT = "department"  # provincial department or agency (sở, ban, ngành)
    LOCAL = "local"  # district-level or commune-level People's Committee
    ORGANISATION = "organisation"  # Fatherland Front, mass organisations, social insurance...


class Agency(_Strict):
    """An agency that reports under this registry version."""

    code: Code = Field(description="Stable code of the agency within the programme.")
    name: str = Field(min_length=3, description="Vietnamese name, used in emails and reports.")
    kind: AgencyKind = Field(description="Department, local People's Committee or organisation.")
    email: MailAddress = Field(description="Address that receives requests.")
    head_title: str = Field(min_length=2, description="Title of the agency head, e.g. 'Giám đốc'.")
    head_email: MailAddress = Field(description="Address of the head, copied on late reminders.")
    indicators: list[Code] = Field(default_factory=list, description="Targets this agency reports.")
    task_groups: list[Code] = Field(default_factory=list, description="Task groups it reports on.")
    active_from: dt.date | None = Field(default=None, description="First day it reports, if later.")
    active_until: dt.date | None = Field(default=None, description="Last day it reports, if any.")

    @model_validator(mode="after")
    def _period(self) -> Agency:
        if self.active_from and self.active_until and self.active_until < self.active_from:
            raise ValueError("active_until comes before active_from")
        return self

    def active_on(self, day: dt.date) -> bool:
        return (self.active_from is None or self.active_from <= day) and (
            self.active_until is None or day <= self.active_until
        )


class Body(_Strict):
    """An office outside the list of reporting agencies (the ministry)."""

    name: str = Field(min_length=3, description="Vietnamese name.")
    short_name: str = Field(min_length=2, description="Abbreviation used in the recipients block.")
    email: MailAddress = Field(description="Address reports are sent to.")


class Signer(_Strict):
    """Default signature block; the coordinator's approval may name another signer."""

    authority: str = Field(description="First line, e.g. 'TM. ỦY BAN NHÂN DÂN'.")
    deputy: str | None = Field(default=None, description="Second line, e.g. 'KT. CHỦ TỊCH'.")
    title: str = Field(description="Title, e.g. 'PHÓ CHỦ TỊCH'.")
    name: str = Field(description="Full name.")


class RegistryVersion(_Strict):
    """``registry/<date>.yaml``: who reports, and to whom, from a given day."""

    effective_from: dt.date = Field(description="First day in force; must match the file name.")
    label: str = Field(min_length=3, description="Short English description of this version.")
    province: str = Field(min_length=2, description="Province name in force.")
    issuing_body: str = Field(description="Issuing body of the report, e.g. 'ỦY BAN NHÂN DÂN'.")
    issuing_body_short: str = Field(description="Symbol in the report number, e.g. 'UBND'.")
    place: str = Field(description="Place in the report's date line, e.g. 'Vĩnh Long'.")
    sender_name: str | None = Field(
        default=None,
        min_length=3,
        description="From: display name of this programme's emails (default: settings).",
    )
    sender_address: MailAddress | None = Field(
        default=None, description="From: address of this programme's emails (default: settings)."
    )
    subject_tag: str | None = Field(
        default=None,
        min_length=2,
        max_length=20,
        pattern=r"^[^\[\]\r\n]+$",
        description="Tag opening every email subject, e.g. 'NQ42' gives '[NQ42] ...'.",
    )
    standing_agency: Code = Field(description="Code of the agency that consolidates reports.")
    ministry: Body = Field(description="Ministry the province reports to.")
    recipients: list[str] = Field(min_length=1, description="'Nơi nhận' lines of the report.")
    signer: Signer = Field(description="Default signer of the report.")
    task_group_leads: dict[Code, Code] = Field(description="Task group code -> lead agency code.")
    agencies: list[Agency] = Field(min_length=1, description="Agencies that report.")

    def agency(self, code: str) -> Agency:
        return next(a for a in self.agencies if a.code == code)


class ProgrammeRegistry(BaseModel):
    """A programme with all its registry versions, ordered by date."""

    model_config = ConfigDict(frozen=True)

    programme: Programme
    versions: list[RegistryVersion]

    def version_on(self, day: dt.date) -> RegistryVersion:
        """The registry version in force on ``day``."""
        in_force = [v for v in self.versions if v.effective_from <= day]
        if not in_force:
            first = self.versions[0].effective_from
            raise RegistryError(
                f"{self.programme.code}: no registry version in force on {day} "
                f"(the first starts {first})"
            )
        return in_force[-1]


def no_duplicates(field: str, values: list) -> None:
    seen = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{field}: duplicate {value!r}")
        seen.add(value)
