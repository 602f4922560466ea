"""Fuzzing the web form: whatever arrives, no 5xx, and nothing is stored from a refused post."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.settings import get_settings
from models.cycles import cycle_requests, ensure_requests, get_cycle, open_cycle
from models.database import session_scope
from portal.app import create_app
from reporting.messages import link_for
from tests.factories import PROGRAMME

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())


@pytest.fixture
def open_cycle_2026(db):
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        ensure_requests(cycle, session=session)


@pytest.mark.usefixtures("open_cycle_2026")
@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_of_the_openapi_answers_5xx(case):
    response = case.call()
    assert response.status_code < 500, response.text[:500]
    assert "Traceback" not in response.text


FIELD_VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "99,5",
            "1.234,5",
            "-1",
            "1e309",
            "NaN",
            "∞",
            "٣",
            "0x10",
            "1,2,3",
            "=1+1",
            "\x00",
            "có",
            "done",
        ]
    ),
)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_random_form_posts_never_fail_the_server(open_cycle_2026):
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2026, session=session)
        request = next(
            r for r in cycle_requests(cycle, session=session) if r.agency.code == "so-xay-dung"
        )
        path = link_for(request, get_settings())[0].split("://", 1)[1].split("/", 1)[1]
        names = [f"value__{i.code}" for i in request.agency.indicators] + [
            f"status__{g.code}" for g in request.agency.task_groups
        ]
    client = TestClient(create_app(), raise_server_exceptions=False)
    page = client.get(f"/{path}")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    @given(
        st.dictionaries(st.sampled_from(names + ["action", "bogus"]), FIELD_VALUES),
        st.sampled_from(["submit", "save"]),
    )
    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    def post(fields, action):
        response = client.post(
            f"/{path}",
            data={**fields, "csrf_token": csrf, "action": action},
            follow_redirects=False,
        )
        assert response.status_code in (200, 303, 422), response.text[:300]

    post()
