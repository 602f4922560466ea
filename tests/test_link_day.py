"""A link is read on its own programme's day: it expires at midnight where the programme is,
and the form opens whichever programme ``R42_CYCLE__PROGRAMME`` names (even one not loaded)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from config.settings import get_settings
from models.cycles import ensure_requests, open_cycle
from models.database import session_scope
from portal.access import LinkRefused, open_request
from portal.app import create_app
from reporting.messages import link_for
from tests.factories import PROGRAMME

OPENED = dt.date(2026, 11, 2)


def issued_link(days: int) -> tuple[str, dt.date]:
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, OPENED, session=session)
        request = ensure_requests(cycle, session=session)[0]
        url, expires_on = link_for(request, get_settings())
    assert expires_on == OPENED + dt.timedelta(days=days)
    return url.rsplit("/", 1)[1], expires_on


def test_a_link_expires_at_midnight_in_the_programmes_timezone(db, configure):
    configure(R42_WEB_FORM__LINK_VALID_DAYS=30)
    token, last_day = issued_link(30)
    late_evening = dt.datetime.combine(last_day, dt.time(16, 59), tzinfo=dt.UTC)  # 23:59 ICT
    after_midnight = late_evening + dt.timedelta(minutes=2)  # 00:01 ICT, still the day in UTC
    settings = get_settings().web_form
    with session_scope() as session:
        assert open_request(token, session=session, settings=settings, now=late_evening)
        with pytest.raises(LinkRefused) as refused:
            open_request(token, session=session, settings=settings, now=after_midnight)
    assert refused.value.status_code == 410 and "expired" in refused.value.reason


def test_the_form_opens_when_the_configured_programme_is_not_loaded(db, configure):
    configure(
        R42_WEB_FORM__PUBLIC_BASE_URL="http://testserver",
        R42_WEB_FORM__LINK_VALID_DAYS=3650,
        R42_CYCLE__PROGRAMME="example-elderly-care",  # not in this database
    )
    token, _ = issued_link(3650)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        page = client.get(f"/bao-cao/{token}")
    assert page.status_code == 200 and "csrf_token" in page.text
