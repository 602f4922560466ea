"""A link is read on its own programme's day: it expires at midnight where the programme is,
and the form opens whichever programme ``R42_CYCLE__PROGRAMME`` names (even one not loaded).
The check before a post's body (``check_open``, one row) refuses exactly what opening the
request refuses."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from config.settings import get_settings
from models.cycles import ensure_requests, open_cycle
from models.database import session_scope
from portal.access import LinkRefused, check_open, open_request
from portal.app import create_app
from reporting.links import LinkClaims, make_token, read_token
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


def refusal(check, token: str, now: dt.datetime) -> LinkRefused | None:
    settings = get_settings().web_form
    with session_scope() as session:
        try:
            check(token, session=session, settings=settings, now=now)
        except LinkRefused as refused:
            return refused
    return None


def test_the_check_before_a_posts_body_refuses_what_opening_the_request_refuses(db, configure):
    configure(R42_WEB_FORM__LINK_VALID_DAYS=30)
    token, last_day = issued_link(30)
    secret = get_settings().web_form.link_secret.get_secret_value()
    claims = read_token(token, secret, today=None)
    late_evening = dt.datetime.combine(last_day, dt.time(16, 59), tzinfo=dt.UTC)  # 23:59 ICT
    after_midnight = late_evening + dt.timedelta(minutes=2)
    revoked = make_token(
        LinkClaims(claims.request_id, claims.link_version + 1, claims.expires_on), secret
    )
    unknown = make_token(LinkClaims(10**9, 1, claims.expires_on), secret)
    cases = [
        (token, late_evening, None),
        (token, after_midnight, 410),
        (revoked, late_evening, 410),
        (unknown, late_evening, 404),
        ("made-up." + token.split(".")[1], late_evening, 403),
    ]
    for link, now, status in cases:
        opened, checked = refusal(open_request, link, now), refusal(check_open, link, now)
        assert checked == opened  # the same status, page, reason and contact, or none
        assert (checked.status_code if checked else None) == status
    assert "@" in refusal(check_open, revoked, late_evening).contact  # whom to turn to
