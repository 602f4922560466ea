"""What coordinators read in the Prefect UI is Vietnamese: artifact descriptions and tables name
agencies by their names, not their codes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, FlowRunFilter, FlowRunFilterId

from flows.open_cycle import open_cycle_flow
from flows.send_reminders import send_reminders_flow
from tests.factories import PROGRAMME, agency_codes, at, submit

OPENED = dt.date(2026, 11, 2)
FIRST_RUNG = dt.date(2026, 11, 20)  # D-14 of the deadline 04/12/2026


def artifacts_of(state) -> dict:  # type: ignore[no-untyped-def]
    """The artifacts one flow run created, by key."""
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(),
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])),
        )
    return {artifact.key: artifact for artifact in found}


@pytest.mark.usefixtures("prefect_harness", "db")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_open_cycle_and_reminder_artifacts_speak_vietnamese(smtp, smtp_settings):
    opened = open_cycle_flow(year=2026, opened_on=OPENED, as_of=at(OPENED, 8), return_state=True)
    opening = artifacts_of(opened)
    agencies = len(agency_codes(2026))
    assert opening[f"requests-table-{PROGRAMME}-2026"].description == (
        "Cơ quan được đề nghị, báo cáo năm 2026 (hạn 04/12/2026)"
    )
    assert opening[f"delivery-progress-{PROGRAMME}-2026"].description == (
        f"Gửi {agencies} thư, báo cáo năm 2026"
    )

    submit(2026, ["so-y-te"], dt.date(2026, 11, 10))
    reminded = send_reminders_flow(
        year=2026, on=FIRST_RUNG, as_of=at(FIRST_RUNG, 8), return_state=True
    )
    reminders = artifacts_of(reminded)[f"reminders-{PROGRAMME}-2026"]
    assert reminders.description == (
        f"Nhắc báo cáo bậc D-14, ngày 20/11/2026: {agencies - 1} cơ quan được nhắc, "
        "1 đã báo cáo, báo cáo năm 2026"
    )
    rows = {row["Mã cơ quan"]: row for row in json.loads(reminders.data)}  # stored as JSON text
    assert rows["so-y-te"] == {
        "Cơ quan": "Sở Y tế", "Kết quả": "Đã báo cáo", "Mã cơ quan": "so-y-te"
    }
    assert rows["bhxh-tinh"]["Cơ quan"] == "Bảo hiểm xã hội tỉnh Vĩnh Long"
    assert rows["bhxh-tinh"]["Kết quả"] == "Đã nhắc (D-14)"
