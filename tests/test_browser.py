"""A real browser (Debian's chromium, driven by Playwright) follows the link of a request email."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time

import pytest
import uvicorn
from playwright.sync_api import sync_playwright

from flows.open_cycle import open_cycle_flow
from portal.app import create_app
from tests.factories import agency_task_groups, at, outbox
from tests.servers import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def portal_url(db, configure):
    port = free_port()
    configure(R42_WEB_FORM__PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_an_agency_reports_through_the_link_in_its_email(portal_url):
    open_cycle_flow(year=2026, opened_on=dt.date(2026, 11, 2), as_of=at(dt.date(2026, 11, 2), 8))
    request_email = next(
        m
        for m in outbox("request")
        if m["To"].addresses[0].addr_spec == "vanthu@soxd.vinhlong.example"
    )
    text = request_email.get_body(("plain",)).get_content()
    link = re.search(r"http://127\.0\.0\.1:\d+/bao-cao/\S+", text).group(0)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        page.goto(link)
        assert "Sở Xây dựng" in page.content()
        page.fill("#value__social_housing", "1.250")
        page.fill("#value__temporary_houses", "12")
        page.fill("#value__floor_area", "28,4")
        page.fill("#value__urban_clean_water", "100,5")  # out of range: refused
        page.fill("#value__wastewater_treated", "10.5")
        for group in agency_task_groups("so-xay-dung"):
            page.select_option(f"#status__{group}", "done")
            page.fill(f"#results__{group}", "Đã hoàn thành kế hoạch năm 2026.")
        page.click("button.primary")
        error = page.locator("#value__urban_clean_water-error")
        assert "0-100" in error.inner_text()
        assert page.input_value("#value__floor_area") == "28,4"  # kept as typed

        page.fill("#value__urban_clean_water", "99,5")
        page.click("button.primary")
        page.wait_for_url(re.compile(r".*/bien-nhan/1$"))
        body = page.inner_text("body")
        assert "Đã nhận báo cáo" in body and "99,5%" in body and "1.250 căn" in body
        browser.close()

    (receipt,) = outbox("receipt")
    assert receipt["To"].addresses[0].addr_spec == "vanthu@soxd.vinhlong.example"
    assert "Đã nhận báo cáo năm 2026" in receipt["Subject"]
