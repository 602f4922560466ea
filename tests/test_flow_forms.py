"""The Custom run forms coordinators fill in the Prefect UI: every parameter has a Vietnamese
title and a description (Prefect builds the form from the flow's parameter schema)."""

from __future__ import annotations

import pytest

from flows.coordination import reissue_link_flow, send_back_flow, set_cycle_status_flow
from flows.consolidate import consolidate_flow
from flows.cycle_calendar import cycle_calendar_flow
from flows.open_cycle import open_cycle_flow
from flows.review import final_review_flow, midterm_review_flow
from flows.send_reminders import send_reminders_flow
from flows.submit_report import submit_report_flow

FLOWS = [
    send_back_flow,
    reissue_link_flow,
    set_cycle_status_flow,
    submit_report_flow,
    cycle_calendar_flow,
    midterm_review_flow,
    final_review_flow,
]


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.name)
def test_every_parameter_has_a_vietnamese_title_and_help(flow):
    properties = flow.parameters.model_dump()["properties"]
    assert properties
    for name, spec in properties.items():
        assert spec["title"] != name and spec["title"][0].isupper(), (name, spec)
        assert len(spec.get("description") or "") > 10, (name, spec)


def test_required_parameters_stay_required_and_defaults_apply():
    schema = send_back_flow.parameters.model_dump()
    assert schema["required"] == ["year", "agency", "reason"]
    assert schema["properties"]["by"]["default"] == "coordinator"
    assert schema["properties"]["kind"]["default"] == "annual"
    assert set_cycle_status_flow.parameters.model_dump()["required"] == ["year", "status"]
    assert submit_report_flow.parameters.model_dump()["required"] == []
    assert cycle_calendar_flow.parameters.model_dump()["required"] == []


@pytest.mark.parametrize(
    "flow",
    [open_cycle_flow, send_reminders_flow, consolidate_flow, submit_report_flow],
    ids=lambda f: f.name,
)
def test_the_cycle_flows_take_the_kind_of_cycle_as_a_choice(flow):
    kind = flow.parameters.model_dump()["properties"]["kind"]
    assert kind["enum"] == ["annual", "midterm", "final"] and kind["default"] == "annual"
    assert kind["title"] == "Loại kỳ"


def test_a_review_deployment_names_its_kind():
    for flow in (midterm_review_flow, final_review_flow):
        schema = flow.parameters.model_dump()
        assert schema["required"] == ["kind"]  # prefect.yaml sets it per deployment
        assert schema["properties"]["kind"]["enum"] == ["midterm", "final"]
        assert schema["properties"]["step"]["enum"] == ["auto", "open", "remind", "consolidate"]
