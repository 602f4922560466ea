"""A real browser (Debian's chromium, driven by Playwright) follows the link of a request email."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import sync_playwright

from config.settings import get_settings
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


@contextmanager
def served(configure, adjust: Callable[[FastAPI], None] = lambda app: None) -> Iterator[str]:
    """The portal on a free loopback port (``adjust``: e.g. its clock overridden); its URL."""
    port = free_port()
    configure(R42_WEB_FORM__PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    app = create_app()
    adjust(app)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def portal_url(db, configure):
    with served(configure) as url:
        yield url


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


def links_of(*agencies: str) -> dict[str, str]:
    from models.cycles import cycle_requests, ensure_requests, open_cycle
    from models.database import session_scope
    from reporting.messages import link_for
    from tests.factories import PROGRAMME

    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        ensure_requests(cycle, session=session)
        return {
            r.agency.code: link_for(r, get_settings())[0]
            for r in cycle_requests(cycle, session=session)
            if r.agency.code in agencies
        }


def fill_housing(page, floor_area: str = "28,4") -> None:  # noqa: ANN001
    page.fill("#value__social_housing", "1.250")
    page.fill("#value__temporary_houses", "12")
    page.fill("#value__floor_area", floor_area)
    page.fill("#value__urban_clean_water", "99,5")
    page.fill("#value__wastewater_treated", "10,5")
    for group in agency_task_groups("so-xay-dung"):
        page.select_option(f"#status__{group}", "done")
        page.fill(f"#results__{group}", "Đã hoàn thành kế hoạch năm 2026.")


def test_several_tabs_and_links_in_one_browser_each_submit(portal_url):
    links = links_of("so-xay-dung", "so-y-te")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        first, second, other = context.new_page(), context.new_page(), context.new_page()
        first.goto(links["so-xay-dung"])
        fill_housing(first)
        second.goto(links["so-xay-dung"])  # the same link again, e.g. from webmail
        other.goto(links["so-y-te"])  # and another agency's
        first.click("button.primary")
        first.wait_for_url(re.compile(r".*/bien-nhan/1$"))
        other.click("button[value=save]")
        assert "Đã lưu bản nháp" in other.inner_text("body")

        # a post refused (its token spoilt) keeps what was typed, and goes through from there
        fill_housing(second, floor_area="29,1")
        second.eval_on_selector("input[name=csrf_token]", "e => e.value = 'spoilt'")
        second.click("button.primary")
        assert "Phiên làm việc đã hết hạn" in second.inner_text("body")
        assert second.input_value("#value__floor_area") == "29,1"
        assert second.input_value(f"#results__{agency_task_groups('so-xay-dung')[0]}") != ""
        second.click("button.primary")
        second.wait_for_url(re.compile(r".*/bien-nhan/2$"))
        assert "29,1" in second.inner_text("body")
        browser.close()


def test_after_a_failed_upload_the_page_still_works(portal_url, tmp_path):
    from tests.test_intake_load import agencies, filled_workbook

    link = links_of("so-xay-dung")["so-xay-dung"]
    agency = next(a for a in agencies() if a["code"] == "so-xay-dung")
    import httpx

    good = tmp_path / "bao-cao.xlsx"
    with httpx.Client(base_url=portal_url) as client:
        good.write_bytes(filled_workbook(client, agency))
    bad = tmp_path / "hong.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(link)
        page.set_input_files("input[type=file]", str(bad))
        page.click("text=Tải lên và gửi")
        page.wait_for_load_state()
        assert "Tệp Excel chưa được nhận" in page.inner_text("body")
        with page.expect_download() as download:  # the form's link works from the error page
            page.click("text=tải biểu mẫu Excel")
        assert download.value.suggested_filename.endswith(".xlsx")
        page.set_input_files("input[type=file]", str(good))  # a correct upload from there
        page.click("text=Tải lên và gửi")
        page.wait_for_url(re.compile(r".*/bien-nhan/1$"))
        page.goto(link)
        page.set_input_files("input[type=file]", str(bad))
        page.click("text=Tải lên và gửi")
        page.wait_for_load_state()
        assert "Tệp Excel chưa được nhận" in page.inner_text("body")
        fill_housing(page, floor_area="31")  # then the web form, from the error page
        page.click("button.primary")
        page.wait_for_url(re.compile(r".*/bien-nhan/2$"))
        assert "31" in page.inner_text("body")
        browser.close()


def test_the_clerk_confirms_a_value_the_form_read_as_implausible(portal_url):
    link = links_of("so-xay-dung")["so-xay-dung"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(link)
        fill_housing(page, floor_area="1.250,5")  # meant 12,5? the form asks
        page.click("button.primary")
        question = page.inner_text("#xac-nhan")
        assert "1.250,5 = một nghìn hai trăm năm mươi phẩy năm" in question
        assert "nằm ngoài khoảng hợp lý 5 - 100 m² sàn/người" in question
        assert page.input_value("#value__floor_area") == "1.250,5"  # kept as typed
        page.click("#xac-nhan button")  # the box not ticked: asked again, nothing stored
        assert "vui lòng đánh dấu ô xác nhận" in page.inner_text("body")
        page.check("#xac-nhan input[type=checkbox]")
        page.click("#xac-nhan button")
        page.wait_for_url(re.compile(r".*/bien-nhan/1$"))
        assert "Quý cơ quan đã xác nhận" in page.inner_text("body")
        browser.close()
    (receipt,) = outbox("receipt")
    assert "1.250,5 = một nghìn" in receipt.get_body(("plain",)).get_content()
