"""The coordinator decides requests for more time in the Prefect UI: the deployed
`decide-extensions` run suspends with the pending requests as its input form, and applies the
answer once resumed, run as a worker runs it (``python -m prefect.flow_engine``)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from prefect.artifacts import Artifact
from prefect.deployments import run_deployment
from prefect.flow_runs import resume_flow_run

from config.settings import get_settings
from flows.decide_extensions import decide_extensions_flow
from models.cycles import ensure_requests, get_request, open_cycle
from models.database import session_scope
from models.orm import ExtensionStatus
from reporting.extensions import ask_for_more_time, decide_extension
from tests.factories import PROGRAMME, at, outbox
from tests.test_suspension import inputs, state_of, worker_env
from tests.test_suspension import run_as_worker as worker

pytestmark = pytest.mark.usefixtures("prefect_harness")
ENTRYPOINT = "flows/decide_extensions.py:decide_extensions_flow"


def run_as_worker(flow_run_id, env):
    return worker(flow_run_id, env, ENTRYPOINT)


def asked(agency: str, until: str, reason: str) -> int:
    with session_scope() as session:
        request = get_request(PROGRAMME, 2026, agency, session=session)
        return ask_for_more_time(
            request, until, reason, session=session, requested_by="test",
            now=at(dt.date(2026, 11, 30), 9),
        ).id


def statuses() -> dict[str, tuple[str, dt.date | None]]:
    with session_scope() as session:
        result = {}
        for code in ("so-y-te", "so-xay-dung", "so-tai-chinh"):
            request = get_request(PROGRAMME, 2026, code, session=session)
            result[code] = (request.extensions[-1].status, request.extended_until)
        return result


def test_the_coordinator_decides_in_the_ui_and_each_agency_is_emailed(db, tmp_path):
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        ensure_requests(cycle, session=session)
    ids = {
        "so-y-te": asked("so-y-te", "2026-12-12", "Chờ số liệu của các trạm y tế."),
        "so-xay-dung": asked("so-xay-dung", "2026-12-10", "Thiếu cán bộ tổng hợp."),
        "so-tai-chinh": asked("so-tai-chinh", "2026-12-09", "Chờ quyết toán."),
    }
    env = worker_env(tmp_path)
    deployment_id = decide_extensions_flow.to_deployment(name="test-decide").apply()
    flow_run = run_deployment(deployment_id, parameters={"year": 2026}, timeout=0)
    first = run_as_worker(flow_run.id, env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert state_of(flow_run.id).name == "Suspended"

    # The form shows every pending request, each pre-filled as a row to decide.
    found = inputs(flow_run.id)
    (description,) = [v for k, v in found.items() if k.endswith("-description")]
    assert "3 đề nghị đang chờ" in description and "Chờ quyết toán." in description
    (schema,) = [v for k, v in found.items() if k.endswith("-schema")]
    rows = json.loads(schema)["properties"]["decisions"]["default"]
    assert {r["request"] for r in rows} == set(ids.values())
    assert {r["decision"] for r in rows} == {"grant"}

    # Meanwhile so-tai-chinh's request is decided from the CLI: the UI's answer skips it.
    with session_scope() as session:
        request = get_request(PROGRAMME, 2026, "so-tai-chinh", session=session)
        decide_extension(
            request.extensions[-1], grant=False, session=session, settings=get_settings(),
            actor="ops", now=at(dt.date(2026, 12, 1), 9),
        )

    resume_flow_run(
        flow_run.id,
        run_input={
            "decisions": [
                {"request": ids["so-y-te"], "decision": "grant", "until": "2026-12-09",
                 "note": "Gia hạn ngắn hơn đề nghị."},
                {"request": ids["so-xay-dung"], "decision": "refuse",
                 "note": "Đề nghị gửi đúng hạn."},
                {"request": ids["so-tai-chinh"], "decision": "grant"},
            ],
            "decided_by": "Nguyễn Văn A",
        },
    )
    second = run_as_worker(flow_run.id, env)
    assert second.returncode == 0, second.stderr[-3000:]
    state = state_of(flow_run.id)
    assert state.is_completed() and state.name == "1 granted, 1 refused"
    assert statuses() == {
        "so-y-te": (ExtensionStatus.GRANTED, dt.date(2026, 12, 9)),
        "so-xay-dung": (ExtensionStatus.REFUSED, None),
        "so-tai-chinh": (ExtensionStatus.REFUSED, None),  # decided by the CLI, not twice
    }
    table = {
        row["Cơ quan"]: row["Kết quả"]
        for row in json.loads(Artifact.get(f"extension-decisions-{PROGRAMME}-2026").data)
    }
    assert table == {
        "Sở Y tế": "Gia hạn đến 09/12/2026; đã gửi thư",
        "Sở Xây dựng": "Không chấp thuận; đã gửi thư",
        "Sở Tài chính": "Bỏ qua: đề nghị đã không được chấp thuận",
    }
    subjects = sorted(m["Subject"] for m in outbox("extension"))
    # The CLI-side refusal was queued by the test (delivered with the run's) plus the two here.
    assert len(subjects) == 3
    assert any("Đồng ý gia hạn báo cáo năm 2026 đến ngày 09/12/2026 - Sở Y tế" in s
               for s in subjects)

    # Nothing pending any more: a new run ends at once.
    again = run_deployment(deployment_id, parameters={"year": 2026}, timeout=0)
    ended = run_as_worker(again.id, env)
    assert ended.returncode == 0, ended.stderr[-3000:]
    assert state_of(again.id).name == "Nothing to decide"
