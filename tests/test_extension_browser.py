"""In a real browser (chromium): an agency asks for more time on its page, is told what to fix,
then sends it, and its page shows the request as waiting."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI
from playwright.sync_api import sync_playwright

from config.settings import get_settings
from models.cycles import ensure_requests, get_request, open_cycle
from models.database import session_scope
from portal.dependencies import current_time
from reporting.messages import link_for
from tests.factories import PROGRAMME, at
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, served


@pytest.fixture
def portal_url(db, configure):
    """The portal with its clock on 30/11/2026 (the days it checks do not move with the CI's)."""

    def on_30_11(app: FastAPI) -> None:
        app.dependency_overrides[current_time] = lambda: at(dt.date(2026, 11, 30), 9)

    with served(configure, on_30_11) as url:
        yield url


def test_an_agency_asks_for_more_time_in_a_browser(portal_url):
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        ensure_requests(cycle, session=session)
        link = link_for(
            get_request(PROGRAMME, 2026, "so-xay-dung", session=session), get_settings()
        )[0]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        page.goto(link)
        page.fill("#until", "2026-12-10")
        page.click("#gia-han button")  # no reason: refused, the date kept
        assert "vui lòng nêu lý do" in page.locator("#reason-error").inner_text()
        assert page.input_value("#until") == "2026-12-10"
        page.fill("#reason", "Chờ số liệu thống kê của Cục Thống kê.")
        page.click("#gia-han button")
        page.wait_for_url("**gia-han=da-gui*")
        assert "Đề nghị gia hạn đến ngày 10/12/2026" in page.content()
        assert "Đã gửi đề nghị gia hạn" in page.content()
        browser.close()
