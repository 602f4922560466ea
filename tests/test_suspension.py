"""The deployed submission flow suspends, frees its process, and finishes after the decision.

A worker runs a flow run as `python -m prefect.flow_engine` with PREFECT__FLOW_RUN_ID; this test
does exactly that against Prefect's test server, twice: once until the run suspends (the
process exits), once after the coordinator's answer.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL

from flows.approval import CoordinatorDecision, answer, find_waiting_runs
from flows.consolidate import consolidate_flow
from flows.open_cycle import open_cycle_flow
from flows.submit_report import submit_report_flow
from tests.factories import PROGRAMME, agency_codes, at, submit

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("prefect_harness")


def run_as_worker(flow_run_id, settings_env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        **settings_env,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PREFECT__FLOW_RUN_ID": str(flow_run_id),
    }
    entrypoint = "flows/submit_report.py:submit_report_flow"
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
    (sent,) = smtp.received
    assert "7/BC-UBND" in sent.message["Subject"]
