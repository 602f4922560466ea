"""The deployed submission flow suspends, frees its process, and finishes after the decision.

A worker runs a flow run as `python -m prefect.flow_engine` with PREFECT__FLOW_RUN_ID; this test
does exactly that against Prefect's test server, twice: once until the run suspends (the
process exits), once after the coordinator's answer.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.artifacts import Artifact
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from prefect.flow_runs import resume_flow_run
from prefect.settings import PREFECT_API_URL
from prefect.states import Scheduled

from flows.approval import CoordinatorDecision, answer, find_waiting_runs
from flows.consolidate import consolidate_flow
from flows.open_cycle import open_cycle_flow
from flows.submit_report import submit_report_flow
from tests.factories import PROGRAMME, agency_codes, at, submit

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("prefect_harness")


def run_as_worker(
    flow_run_id,
    settings_env: dict[str, str],
    entrypoint: str = "flows/submit_report.py:submit_report_flow",
) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        **settings_env,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PREFECT__FLOW_RUN_ID": str(flow_run_id),
    }
    return subprocess.run(
        [sys.executable, "-m", "prefect.flow_engine", entrypoint],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def state_of(flow_run_id):
    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id).state


def test_deployed_submission_suspends_and_resumes_in_a_new_process(
    db, smtp, smtp_settings, tmp_path
):
    settings_env = {k: v for k, v in os.environ.items() if k.startswith("R42_")}
    settings_env["PREFECT_LOCAL_STORAGE_PATH"] = str(tmp_path / "results")
    open_cycle_flow(year=2026, opened_on=dt.date(2026, 11, 2), as_of=at(dt.date(2026, 11, 2), 8))
    submit(2026, agency_codes(2026)[:3], dt.date(2026, 11, 20))
    consolidate_flow(year=2026, as_of=at(dt.date(2026, 12, 5), 17))
    smtp.received.clear()

    deployment_id = submit_report_flow.to_deployment(name="test-submit").apply()
    flow_run = run_deployment(deployment_id, parameters={"year": 2026}, timeout=0)

    first = run_as_worker(flow_run.id, settings_env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert state_of(flow_run.id).name == "Suspended"
    assert find_waiting_runs(2026, PROGRAMME) == [flow_run.id]
    assert smtp.received == []

    answer(
        2026,
        PROGRAMME,
        CoordinatorDecision(
            decision="approve", report_number="7/BC-UBND", signer="Nguyễn Văn A", decided_by="test"
        ),
    )
    second = run_as_worker(flow_run.id, settings_env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert state_of(flow_run.id).is_completed()
    assert state_of(flow_run.id).name == "Approved 7/BC-UBND"
    (sent,) = smtp.received
    assert "7/BC-UBND" in sent.message["Subject"]


def prepared_submission(settings_env: dict[str, str]):
    """A consolidated 2026 cycle and one deployed submission run suspended on its decision."""
    open_cycle_flow(year=2026, opened_on=dt.date(2026, 11, 2), as_of=at(dt.date(2026, 11, 2), 8))
    submit(2026, agency_codes(2026)[:3], dt.date(2026, 11, 20))
    consolidate_flow(year=2026, as_of=at(dt.date(2026, 12, 5), 17))
    deployment_id = submit_report_flow.to_deployment(name="test-submit").apply()
    flow_run = run_deployment(deployment_id, parameters={"year": 2026}, timeout=0)
    first = run_as_worker(flow_run.id, settings_env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert state_of(flow_run.id).name == "Suspended"
    return deployment_id, flow_run


def inputs(flow_run_id) -> dict[str, str]:
    with get_client(sync_client=True) as client:
        found = client.filter_flow_run_input(
            flow_run_id, key_prefix="suspended-", limit=50, exclude_keys=set()
        )
    return {i.key: i.value for i in found}


def worker_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.startswith("R42_")}
    env["PREFECT_LOCAL_STORAGE_PATH"] = str(tmp_path / "results")
    env["PREFECT_LOGGING_LEVEL"] = "INFO"
    return env


def test_an_incomplete_or_invalid_answer_never_fails_the_submission_run(
    db, smtp, smtp_settings, tmp_path
):
    settings_env = worker_env(tmp_path)
    _, flow_run = prepared_submission(settings_env)
    smtp.received.clear()

    # The form says what is decided: the revision, who reported, where the draft is.
    (description,) = [v for k, v in inputs(flow_run.id).items() if k.endswith("-description")]
    assert "Dự thảo báo cáo năm 2026 - lần 1" in description
    assert "Cơ quan đã báo cáo: **3/" in description
    assert "bao-cao-2026-du-thao-1.docx" in description
    ((schema_key, schema),) = [(k, v) for k, v in inputs(flow_run.id).items() if "-schema" in k]
    forms = json.loads(schema)["definitions"]
    assert forms["Approve"]["required"] == ["report_number", "signer"]
    assert forms["SendBack"]["required"] == ["reason"]

    # What the Resume dialog sends without a signer, or with a blank reason, is refused by the
    # server against the form's schema: the run stays suspended.
    for incomplete in (
        {"choice": {"decision": "approve", "report_number": "8/BC-UBND"}},
        {"choice": {"decision": "send_back", "reason": "   "}},
        {"choice": {"decision": "approve", "report_number": "tám", "signer": "Nguyễn Văn A"}},
    ):
        with pytest.raises(RuntimeError, match="Cannot resume"):
            resume_flow_run(flow_run.id, run_input=incomplete)
        assert state_of(flow_run.id).name == "Suspended"

    # An answer the server let through (one given to an older form, say) but the flow cannot
    # use: the run logs why and suspends again, it does not fail.
    base = schema_key.removesuffix("-schema")  # suspended-report-<id>
    with get_client(sync_client=True) as client:
        client.create_flow_run_input(
            flow_run.id,
            key=f"{base}-response",
            value='{"choice": {"decision": "approve", "report_number": "", "signer": ""}}',
        )
        client.set_flow_run_state(flow_run.id, Scheduled(), force=True)
    again = run_as_worker(flow_run.id, settings_env)
    assert again.returncode == 0, again.stderr[-3000:]
    assert state_of(flow_run.id).name == "Suspended"
    assert "does not validate" in again.stderr and "report_number" in again.stderr
    assert find_waiting_runs(2026, PROGRAMME) == [flow_run.id]
    assert "Quyết định chưa hợp lệ" in Artifact.get(f"decision-{PROGRAMME}-2026").data

    # A proper send-back: the run ends named for it, with the decision as an artifact, and
    # after the resume the log does not say it waits or suspends again.
    back = CoordinatorDecision(decision="send_back", reason="Thiếu số liệu Sở Y tế")
    answer(2026, PROGRAMME, back)
    last = run_as_worker(flow_run.id, settings_env)
    assert last.returncode == 0, last.stderr[-3000:]
    state = state_of(flow_run.id)
    assert state.is_completed() and state.name == "Sent back: Thiếu số liệu Sở Y tế"
    assert "Waiting for the coordinator" not in last.stderr and "Suspending" not in last.stderr
    decision = Artifact.get(f"decision-{PROGRAMME}-2026").data
    assert "Trả lại để chỉnh sửa" in decision and "Thiếu số liệu Sở Y tế" in decision
    assert smtp.received == []


def test_only_one_submission_run_of_a_cycle_waits(db, smtp, smtp_settings, tmp_path):
    settings_env = worker_env(tmp_path)
    deployment_id, waiting = prepared_submission(settings_env)
    second = run_deployment(deployment_id, parameters={"year": 2026}, timeout=0)
    ended = run_as_worker(second.id, settings_env)
    assert ended.returncode == 0, ended.stderr[-3000:]
    state = state_of(second.id)
    assert state.is_completed() and state.name == f"Already waiting in {waiting.name}"
    assert str(waiting.id) in state.message
    assert find_waiting_runs(2026, PROGRAMME) == [waiting.id]

    smtp.received.clear()
    decision = CoordinatorDecision(
        decision="approve", report_number="402/BC-UBND", signer="Nguyễn Văn A", decided_by="t"
    )
    assert answer(2026, PROGRAMME, decision) == waiting.id
    done = run_as_worker(waiting.id, settings_env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert state_of(waiting.id).name == "Approved 402/BC-UBND"
    (sent,) = smtp.received
    assert "402/BC-UBND" in sent.message["Subject"]


def test_a_review_runs_the_shared_flows_and_is_approved_by_the_same_suspended_submission(
    db, smtp, smtp_settings, tmp_path
):
    """The mid-term review: open-cycle, send-reminders and consolidate with kind=midterm (the
    review flow's subflows), then submit-to-ministry with kind=midterm suspends, a
    CoordinatorDecision resumes it, and the report goes to the ministry."""
    from flows.review import midterm_review_flow
    from models.cycles import cycle_requests, get_cycle
    from models.database import session_scope
    from models.orm import Channel, CycleKind
    from reporting.evaluation_intake import record_evaluation
    from tests.test_evaluation import evaluation_input

    settings_env = worker_env(tmp_path)
    review = {"kind": "midterm", "year": 2025}
    opened, deadline = dt.date(2025, 9, 15), dt.date(2025, 10, 15)
    midterm_review_flow(**review, step="open", opened_on=opened, deadline=deadline,
                        as_of=at(opened, 8))  # fmt: skip
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2025, session=session, kind=CycleKind.MIDTERM)
        for request in cycle_requests(cycle, session=session)[:3]:
            record_evaluation(
                request,
                evaluation_input(request.agency, 2025),
                session=session,
                channel=Channel.WEB_FORM,
                submitted_by="test",
                submitted_at=at(dt.date(2025, 9, 20)),
            )
    reminder_day = deadline - dt.timedelta(days=7)
    reminded = midterm_review_flow(**review, on=reminder_day, as_of=at(reminder_day, 8))
    assert reminded["reminded"]["rung"] == -7 and reminded["reminded"]["queued"]
    after = deadline + dt.timedelta(days=1)
    drafted = midterm_review_flow(**review, on=after, as_of=at(after, 17))
    assert drafted["report"] == {"revision": 1, "created": True, "status": "draft"}
    with get_client(sync_client=True) as client:
        kinds: dict[str, set] = {}
        for run in client.read_flow_runs():  # this test's: the harness is the session's
            if run.parameters.get("year") == 2025 and run.parent_task_run_id is not None:
                name = client.read_flow(run.flow_id).name
                kinds.setdefault(name, set()).add(run.parameters.get("kind"))
    for shared in ("open-cycle", "send-reminders", "consolidate"):  # the review's subflows
        assert kinds[shared] == {"midterm"}, (shared, kinds)
    smtp.received.clear()

    deployment_id = submit_report_flow.to_deployment(name="test-submit-review").apply()
    flow_run = run_deployment(
        deployment_id, parameters={"year": 2025, "kind": "midterm"}, timeout=0
    )
    first = run_as_worker(flow_run.id, settings_env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert state_of(flow_run.id).name == "Suspended"
    (description,) = [v for k, v in inputs(flow_run.id).items() if k.endswith("-description")]
    assert "Dự thảo báo cáo sơ kết năm 2025 - lần 1" in description
    assert "so-ket-2025-du-thao-1.docx" in description
    assert find_waiting_runs(2025, PROGRAMME, "midterm") == [flow_run.id]
    assert find_waiting_runs(2025, PROGRAMME) == []  # not the yearly report's run
    assert smtp.received == []

    decision = CoordinatorDecision(
        decision="approve", report_number="9/BC-UBND", signer="Nguyễn Văn A", decided_by="test"
    )
    assert answer(2025, PROGRAMME, decision, "midterm") == flow_run.id
    second = run_as_worker(flow_run.id, settings_env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert state_of(flow_run.id).name == "Approved 9/BC-UBND"
    (sent,) = smtp.received
    assert "9/BC-UBND" in sent.message["Subject"] and "sơ kết" in sent.message["Subject"]
    folder = tmp_path / "reports" / PROGRAMME / "2025-midterm"
    assert (folder / "so-ket-2025-9-BC-UBND.pdf").exists()
    assert "Quyết định về báo cáo sơ kết năm 2025" in Artifact.get(
        f"decision-{PROGRAMME}-2025-midterm"
    ).data

