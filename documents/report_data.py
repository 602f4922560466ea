"""What the reports say, as plain data: a yearly consolidation and a review's evaluation, the
rows of their tables, the JSON stored with each report revision, and the hash that tells
whether a new revision is due. Producers (``reporting``) fill them; renderers read them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, is_dataclass

from documents.indicators import met_text
from documents.labels import (
    AGENCY_STATUS_TEXT,
    DELIVERY_STATUS_TEXT,
    MESSAGE_KIND_TEXT,
    TASK_STATUS_TEXT,
    Progress,
    progress_text,
)
from models.orm import CycleKind, TaskStatus


def data_hash(data: dict) -> str:
    """Hash of a consolidation's or an evaluation's data (``as_data()``), leaving out the day
    it was computed: the same content gives the same hash."""
    content = {k: v for k, v in data.items() if k != "as_of"}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in vars(value).items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass
class AgencyRow:
    code: str
    name: str
    kind: str
    status: str  # on_time, late, missing, returned
    submitted_on: str | None  # dd/mm/yyyy
    revisions: int
    channel: str | None

    @property
    def status_text(self) -> str:
        return AGENCY_STATUS_TEXT[self.status]


@dataclass
class IndicatorRow:
    number: int
    code: str
    name: str
    unit: str
    rule: str
    reporter: str
    target: str
    value: str
    previous: str
    met: bool | None
    trend: str | None  # up, down, same; None without both values
    note: str
    progress: str  # a Progress value: toward the target-year value from the baseline (Open SDG)
    ratio: float | None = None  # R unrounded; the status was decided on it
    worsening: bool = False  # met the target but worse than the year before

    @property
    def met_text(self) -> str:
        """'Đạt', 'Chưa đạt', 'Chưa có số liệu'; 'Chưa giao chỉ tiêu' without a target."""
        if self.progress == Progress.NO_TARGET:
            return Progress.NO_TARGET.text
        return met_text(self.met)

    @property
    def progress_text(self) -> str:
        """'Cần tăng tốc (R = 0,77)', 'Đã đạt mục tiêu; đạt nhưng đang xấu đi'."""
        return progress_text(Progress(self.progress), self.ratio, self.worsening)


@dataclass
class FlaggedRow:
    """A counted value that looked wrong when it arrived, for the coordinator to check."""

    agency: str
    indicator: str  # "27. Số căn nhà ở xã hội..."
    value: str  # as the report prints it
    reasons: str  # why it was flagged, in Vietnamese
    confirmed: bool  # the clerk confirmed it on the web form; else stored with a warning
    handling: str  # that, in Vietnamese


@dataclass
class ExtensionRow:
    """More time granted to an agency: its own last day, and why (the report lists them)."""

    agency: str
    until: str  # dd/mm/yyyy, the date granted
    requested_until: str  # dd/mm/yyyy, the date asked
    reason: str  # the agency's, as typed
    note: str  # the coordinator's, '' without one
    status: str  # the agency's standing at consolidation: on_time, late, missing, returned

    @property
    def status_text(self) -> str:
        return AGENCY_STATUS_TEXT[self.status]


@dataclass
class TaskEntry:
    agency: str
    status: str  # a TaskStatus value ('' in the lists of difficulties)
    results: str
    difficulties: str
    proposals: str

    @property
    def status_text(self) -> str:
        """'Hoàn thành', 'Đang thực hiện'... ('' without a status)."""
        return TASK_STATUS_TEXT[TaskStatus(self.status)] if self.status else ""


@dataclass
class Undelivered:
    """An email that failed for good or whose outcome is unknown, for the coordinator to check."""

    agency: str
    kind: str  # a message kind: request, reminder, receipt...
    status: str  # a delivery status: failed, unknown, partial...
    reply: str  # who did not get it, and what their server said

    @property
    def kind_text(self) -> str:
        return MESSAGE_KIND_TEXT.get(self.kind, self.kind)

    @property
    def status_text(self) -> str:
        return DELIVERY_STATUS_TEXT.get(self.status, self.status)


@dataclass
class TaskGroupSummary:
    number: int
    name: str
    lead: str
    entries: list[TaskEntry] = field(default_factory=list)


@dataclass
class Consolidation:
    """Everything the draft report says, as plain data (stored with the report as JSON)."""

    programme: str
    short_name: str
    decision: str
    province: str
    year: int
    kind: str
    deadline: str
    as_of: str
    target_year: int
    requested: int
    on_time: int
    late: int
    missing: int
    agencies: list[AgencyRow]
    indicators: list[IndicatorRow]
    task_groups: list[TaskGroupSummary]
    difficulties: list[TaskEntry]
    adjustments: list[dict[str, str]]
    recommendations: list[dict[str, str]]  # task-group proposals, one per agency and text
    undelivered: list[Undelivered]

    @property
    def reported(self) -> int:
        return self.on_time + self.late

    values: dict[str, list] = field(default_factory=dict)  # code -> [value, achieved]
    baseline_year: int | None = None  # the year progress is measured from (R)
    flagged: list[FlaggedRow] = field(default_factory=list)  # values that looked wrong
    # More time granted, one row per agency (its latest grant); on_time/late count by its date.
    extensions: list[ExtensionRow] = field(default_factory=list)

    def as_data(self) -> dict:
        """The JSON stored with the report: ``dataclasses.asdict`` without its deep copy of
        every value (a tenth of a second per thousand agencies)."""
        return _plain(self)

    def content_hash(self) -> str:
        return data_hash(self.as_data())


def by_agency(said: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Agency -> its distinct non-empty texts, in order: one entry per agency in a report's
    lists (difficulties, proposals), not one line per task group repeating its name."""
    grouped: dict[str, dict[str, None]] = {}
    for agency, text in said:
        if text:
            grouped.setdefault(agency, {})[text] = None
    return {agency: list(texts) for agency, texts in grouped.items()}


@dataclass
class IndicatorEvaluation:
    number: int
    code: str
    name: str
    unit: str
    kind: str
    rule: str
    reporter: str
    target: str  # 'Tối thiểu 40%'
    target_value: float | None
    series: dict[int, float | bool | None]  # year -> value (bool for yes/no), as numbers
    series_text: list[dict[str, str]]  # [{'year': '2024', 'value': '17,8%'}]
    sources: dict[int, str]  # year -> 'agency' or 'stored'
    status: str  # a Progress value
    status_text: str
    ratio: float | None  # R unrounded; the status was decided on it
    worsening: bool  # met the target but moved away from it since the year before
    note: str

    @property
    def progress_text(self) -> str:
        """'Cần tăng tốc (R = 0,77)', 'Đã đạt mục tiêu; đạt nhưng đang xấu đi'."""
        return progress_text(Progress(self.status), self.ratio, self.worsening)


@dataclass
class Evaluation:
    """Everything the evaluation report says, as plain data (stored with it as JSON)."""

    programme: str
    short_name: str
    decision: str
    province: str
    kind: str
    review: str  # 'sơ kết' or 'tổng kết'
    year: int
    baseline_year: int
    target_year: int
    years: list[int]
    deadline: str
    as_of: str
    requested: int
    on_time: int
    late: int
    missing: int
    agencies: list[AgencyRow]
    indicators: list[IndicatorEvaluation]
    status_counts: dict[str, int]
    task_groups: list[TaskGroupSummary]
    narratives: dict[str, list[dict[str, str]]]  # field -> [{'agency', 'text'}]
    undelivered: list[dict[str, str]] = field(default_factory=list)

    @property
    def reported(self) -> int:
        return self.on_time + self.late

    @property
    def is_final(self) -> bool:
        return self.kind == CycleKind.FINAL

    def as_data(self) -> dict:
        return asdict(self)

    def content_hash(self) -> str:
        return data_hash(self.as_data())
