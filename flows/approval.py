"""The coordinator's decision on a draft report: the input form, and answering it from a CLI."""

from __future__ import annotations

import re
from typing import Literal
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.flow_runs import resume_flow_run
from prefect.input import RunInput
from pydantic import Field, model_validator

from config.settings import get_settings

SUBMIT_FLOW_NAME = "submit-to-ministry"


class CoordinatorDecision(RunInput):
    """Phê duyệt báo cáo gửi Bộ, hoặc trả lại để chỉnh sửa."""

    decision: Literal["approve", "send_back"] = Field(
        description="approve: phê duyệt và gửi Bộ; send_back: trả lại để chỉnh sửa"
    )
    report_number: str | None = Field(
        default=None, description="Số báo cáo khi phê duyệt, ví dụ 12/BC-UBND"
    )
    signer: str | None = Field(default=None, description="Họ tên người ký khi phê duyệt")
    reason: str | None = Field(default=None, description="Lý do khi trả lại")
    decided_by: str = Field(default="coordinator", description="Người quyết định")

    @model_validator(mode="after")
    def _complete(self) -> CoordinatorDecision:
        if self.decision == "approve":
            if not self.report_number or not re.fullmatch(
                r"\d{1,4}/BC-[A-ZĐ0-9-]+", self.report_number.strip()
            ):
                raise ValueError("report_number: approval needs a number like 12/BC-UBND")
            if not self.signer or len(self.signer.strip()) < 3:
                raise ValueError("signer: approval needs the signer's full name")
        elif not self.reason or not self.reason.strip():
            raise ValueError("reason: sending back needs a reason")
        return self


def find_waiting_runs(year: int, programme: str) -> list[UUID]:
    """Submission runs for this year and programme that wait for a decision."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[SUBMIT_FLOW_NAME])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
            ),
        )
    configured = get_settings().cycle.programme  # what a run without the parameter works on
    return [
        run.id
        for run in runs
        if run.parameters.get("year") in (year, None)
        and (run.parameters.get("programme") or configured) == programme
    ]


def answer(year: int, programme: str, decision: CoordinatorDecision) -> UUID:
    """Resume the one waiting submission run of ``year`` with ``decision``."""
    runs = find_waiting_runs(year, programme)
    if len(runs) != 1:
        raise LookupError(
            f"expected one submission run of {year} waiting for a decision, found {len(runs)}"
        )
    resume_flow_run(runs[0], run_input=decision.model_dump(mode="json"))
    return runs[0]
