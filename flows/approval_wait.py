"""The submission run's wait for the coordinator: one waiting run per cycle, a form that says
what is decided, an answer that cannot fail the run, and the outcome as the run's end state.

- Only the oldest active submission run of a cycle waits; a later one ends at once naming it
  (two waiting runs would split the decisions between them).
- The decision is read before suspending: once given, the restarted run (a suspended run
  starts again from the top) takes it without saying it suspends again.
- An answer that fails validation is logged, published as the decision artifact, and the run
  suspends again under the next key with the same form: it never fails the run.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from prefect import get_run_logger, pause_flow_run, suspend_flow_run
from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.context import get_run_context
from prefect.input import RunInput
from prefect.input.actions import read_flow_run_input
from prefect.input.run_input import keyset_from_base_key
from prefect.states import Completed, State
from pydantic import ValidationError

from config.settings import get_settings
from documents.markdown_text import markdown_text
from documents.vietnamese import format_number
from flows.approval import CoordinatorDecision, submission_runs
from flows.common import CycleRef

ACTIVE = [StateType.PAUSED, StateType.RUNNING, StateType.PENDING]
RunInputT = TypeVar("RunInputT", bound=RunInput)


def waiting_elsewhere(cycle: CycleRef) -> FlowRun | None:
    """The older submission run of this cycle that waits (or runs), if this one is not it."""
    own = get_run_context().flow_run.id
    active = submission_runs(cycle.year, cycle.programme, ACTIVE, kind=cycle.kind)
    older = [run for run in active if run.id != own]
    mine = next((run for run in active if run.id == own), None)
    if mine is None:  # run without a server record of its own state yet: compare with all
        return older[0] if older else None
    before = [run for run in older if (run.created, str(run.id)) < (mine.created, str(mine.id))]
    return before[0] if before else None


def already_waiting(other: FlowRun, report: dict) -> State:
    message = (
        f"Flow run {other.name} ({other.id}) is already the submission run of this cycle "
        f"({other.state.name if other.state else 'active'}): give the decision to that run"
    )
    get_run_logger().warning(message)
    return Completed(name=f"Already waiting in {other.name}", message=message, data=report)


def decision_form(report: dict, draft_folder: Path) -> type[CoordinatorDecision]:
    """The decision form with what is being decided shown above it (Markdown)."""
    data = report.get("data") or {}
    requested = data.get("requested", 0)
    on_time, late, missing = (data.get(k, 0) for k in ("on_time", "late", "missing"))
    stem = report["draft_stem"]
    description = "\n".join(
        [
            f"### Dự thảo {report['title']} - lần {report['revision']}",
            "",
            f"- Chương trình: `{report['programme']}`",
            f"- Cơ quan đã báo cáo: **{format_number(on_time + late)}/"
            f"{format_number(requested)}** (đúng hạn {format_number(on_time)}, trễ hạn "
            f"{format_number(late)}); chưa báo cáo: {format_number(missing)}",
            f"- Dự thảo: `{draft_folder / stem}.docx` (và `.xlsx`, `.html`); bảng tổng hợp ở "
            f"artifact `{report['indicators_key']}` của lần tổng hợp",
            "",
            "Chọn **Phê duyệt và gửi Bộ** (nhập số báo cáo và người ký) hoặc **Trả lại để "
            "chỉnh sửa** (nhập lý do). Báo cáo chỉ được gửi Bộ sau khi phê duyệt.",
        ]
    )
    return CoordinatorDecision.with_initial_data(description=description)


def wait_for_decision(report: dict, draft_folder: Path) -> CoordinatorDecision:
    """Suspend (deployments: no process is held) or, in a local run, pause for the decision."""
    decision = wait_for_input(
        decision_form(report, draft_folder),
        f"report-{report['id']}",
        waiting=f"Waiting for the coordinator's decision on report revision {report['revision']}",
        on_invalid=lambda given, exc: invalid_answer(report, given, exc),
    )
    get_run_logger().info(
        "Decision received from %s: %s", decision.decided_by, decision.summary()
    )
    return decision


def wait_for_input(
    form: type[RunInputT],
    base_key: str,
    *,
    waiting: str,
    on_invalid: Callable[[dict, ValidationError], None],
) -> RunInputT:
    """The coordinator's answer to ``form``: read first (a resumed run restarts from the top
    and takes the answer given without suspending again), else suspend (a deployed run) or
    pause (a local one) under ``base_key``. An answer that fails validation is reported once
    through ``on_invalid`` and the run waits again under the next key, never failing."""
    logger = get_run_logger()
    deployed = get_run_context().flow_run.deployment_id is not None
    timeout = get_settings().cycle.approval_timeout_days * 86400
    for attempt in itertools.count():
        key = base_key + (f"-{attempt + 1}" if attempt else "")
        given = _response(key, deployed)
        try:
            if given is None:
                logger.info(waiting)
                wait = suspend_flow_run if deployed else pause_flow_run
                return wait(wait_for_input=form, key=key, timeout=timeout)
            return form.model_validate(given)
        except ValidationError as exc:
            if _response(f"{base_key}-{attempt + 2}", deployed) is None:
                on_invalid(given or {}, exc)  # reported once, not on each restart
            continue
    raise AssertionError("unreachable")


def _response(key: str, deployed: bool) -> Any:
    keyset = keyset_from_base_key(f"{'suspended' if deployed else 'paused'}-{key}")
    return read_flow_run_input(keyset["response"])


def invalid_answer(report: dict, given: dict, exc: ValidationError) -> None:
    errors = [
        f"{'.'.join(str(part) for part in error['loc']) or 'answer'}: {error['msg']}"
        for error in exc.errors()
    ]
    get_run_logger().error(
        "The decision given does not validate (%s); the run waits again for a complete one",
        "; ".join(errors),
    )
    lines = [
        f"### Quyết định chưa hợp lệ - dự thảo lần {report['revision']}",
        "",
        "Quyết định vừa nhập không được chấp nhận; lần chạy đang chờ quyết định lại "
        "(nút **Resume**). Lỗi:",
        "",
        *[f"- {markdown_text(line, one_line=True)}" for line in errors],
    ]
    publish(report, "\n".join(lines), "Quyết định chưa hợp lệ, đang chờ quyết định lại")


def record_outcome(report: dict, decision: CoordinatorDecision) -> None:
    """The decision as a Markdown artifact: who decided what, on which revision."""
    if decision.decision == "approve":
        rows = [("Quyết định", "Phê duyệt và gửi Bộ"), ("Số báo cáo", decision.report_number)]
        rows.append(("Người ký", decision.signer))
    else:
        rows = [("Quyết định", "Trả lại để chỉnh sửa"), ("Lý do", decision.reason)]
    rows += [("Người quyết định", decision.decided_by), ("Dự thảo", f"lần {report['revision']}")]
    table = "\n".join(f"| {name} | {markdown_text(value, one_line=True)} |" for name, value in rows)
    publish(
        report,
        f"### Quyết định về {report['title']}\n\n| | |\n|---|---|\n{table}\n",
        decision.summary(),
    )


def publish(report: dict, markdown: str, description: str) -> None:
    create_markdown_artifact(
        key=report["decision_key"],
        markdown=markdown,
        description=description[:250],
    )


def outcome_state(name: str, data: dict, message: str | None = None) -> State:
    """The run's end state, named for what happened ("Approved 215/BC-UBND", "Sent back: ...")."""
    short = name if len(name) <= 80 else name[:79] + "…"
    return Completed(name=short, message=message or name, data=data)
