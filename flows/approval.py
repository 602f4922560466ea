"""The coordinator's decision on a draft report: the input form, and answering it from a CLI.

The Resume dialog of the Prefect UI is drawn from the JSON schema of :class:`CoordinatorDecision`:
its one choice is a union of two forms, each with only its own required fields ("Phê duyệt và
gửi Bộ": report number and signer; "Trả lại để chỉnh sửa": the reason), and the number's
pattern is in the schema, so the server refuses an incomplete or malformed answer before the
run resumes. An answer that still fails validation in the flow re-suspends the run (see
``flows.submit_report``), it never fails it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.flow_runs import resume_flow_run
from prefect.input import RunInput
from pydantic import BaseModel, ConfigDict, Field, model_validator

from config.settings import get_settings

SUBMIT_FLOW_NAME = "submit-to-ministry"
REPORT_NUMBER = r"^\s*\d{1,4}/BC-[A-ZĐ0-9-]+\s*$"
SOME_TEXT = r"\S"


def decided_by_field() -> Any:
    """The 'who decides' field of a coordinator's input form (recorded in the audit trail)."""
    return Field(
        default="coordinator",
        title="Người quyết định",
        description="Họ tên hoặc tài khoản của người quyết định (ghi vào nhật ký)",
        min_length=1,
        max_length=200,
    )


class Approve(BaseModel):
    """Phê duyệt báo cáo và gửi Bộ."""

    model_config = ConfigDict(title="Phê duyệt và gửi Bộ")

    decision: Literal["approve"] = Field(default="approve", title="Quyết định")
    report_number: str = Field(
        title="Số báo cáo",
        description="Số và ký hiệu của báo cáo, ví dụ 215/BC-UBND",
        pattern=REPORT_NUMBER,
        max_length=64,
    )
    signer: str = Field(
        title="Người ký",
        description="Họ và tên người ký báo cáo",
        min_length=3,
        max_length=200,
        pattern=SOME_TEXT,
    )


class SendBack(BaseModel):
    """Trả lại dự thảo để chỉnh sửa."""

    model_config = ConfigDict(title="Trả lại để chỉnh sửa")

    decision: Literal["send_back"] = Field(default="send_back", title="Quyết định")
    reason: str = Field(
        title="Lý do trả lại",
        description="Cần chỉnh sửa, bổ sung những gì",
        min_length=3,
        max_length=2000,
        pattern=SOME_TEXT,
    )


Choice = Annotated[Approve | SendBack, Field(discriminator="decision")]


class CoordinatorDecision(RunInput):
    """Quyết định của cán bộ điều phối về dự thảo báo cáo gửi Bộ."""

    choice: Choice = Field(
        title="Quyết định",
        description="Chọn phê duyệt (nhập số báo cáo và người ký) hoặc trả lại (nhập lý do)",
    )
    decided_by: str = decided_by_field()

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, data: Any) -> Any:
        """Accept the flat form the CLI and code use: decision=..., report_number=..., ..."""
        if isinstance(data, dict) and "choice" not in data and "decision" in data:
            fields = {"approve": ("report_number", "signer"), "send_back": ("reason",)}
            decision = data["decision"]
            choice = {"decision": decision}
            choice.update(
                {k: data[k] for k in fields.get(decision, ()) if data.get(k) is not None}
            )
            data = {"choice": choice, **{k: data[k] for k in ("decided_by",) if k in data}}
        return data

    @property
    def decision(self) -> str:
        return self.choice.decision

    @property
    def report_number(self) -> str | None:
        return self.choice.report_number.strip() if isinstance(self.choice, Approve) else None

    @property
    def signer(self) -> str | None:
        return self.choice.signer.strip() if isinstance(self.choice, Approve) else None

    @property
    def reason(self) -> str | None:
        return self.choice.reason.strip() if isinstance(self.choice, SendBack) else None

    def summary(self) -> str:
        """What was decided, as the run's end state names it."""
        if isinstance(self.choice, Approve):
            return f"Approved {self.report_number}"
        return f"Sent back: {self.reason}"


def submission_runs(
    year: int,
    programme: str,
    states: list[StateType],
    flow_run_filter: dict | None = None,
    kind: str = "annual",
) -> list[FlowRun]:
    """Submission runs for this year, programme and kind of cycle in one of ``states``, oldest
    first."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[SUBMIT_FLOW_NAME])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=states)),
                **(flow_run_filter or {}),
            ),
        )
    configured = get_settings().cycle.programme  # what a run without the parameter works on
    mine = [
        run
        for run in runs
        if run.parameters.get("year") in (year, None)
        and (run.parameters.get("programme") or configured) == programme
        and (run.parameters.get("kind") or "annual") == kind
    ]
    return sorted(mine, key=lambda run: (run.created, str(run.id)))


def find_waiting_runs(year: int, programme: str, kind: str = "annual") -> list[UUID]:
    """Submission runs for this year, programme and kind that wait for a decision."""
    return [run.id for run in submission_runs(year, programme, [StateType.PAUSED], kind=kind)]


def answer(
    year: int, programme: str, decision: CoordinatorDecision, kind: str = "annual"
) -> UUID:
    """Resume the one waiting submission run of ``year`` (and ``kind``) with ``decision``."""
    runs = find_waiting_runs(year, programme, kind)
    if len(runs) != 1:
        raise LookupError(
            f"expected one submission run of {year} ({kind}) waiting for a decision, "
            f"found {len(runs)}"
        )
    resume_flow_run(runs[0], run_input=decision.model_dump(mode="json"))
    return runs[0]
