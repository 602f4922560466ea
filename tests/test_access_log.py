"""The portal's access log names a link's request, never its token (a token opens the form)."""

from __future__ import annotations

import datetime as dt
import signal

import httpx

from models.cycles import ensure_requests, open_cycle
from models.database import session_scope
from tests.factories import PROGRAMME
from tests.test_intake_load import agencies, start_portal


def test_the_access_log_holds_request_ids_not_tokens(db, configure, tmp_path):
    configure(R42_WEB_FORM__LINK_VALID_DAYS=3650)
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        ensure_requests(cycle, session=session)
    agency = agencies()[0]
    token = agency["path"].split("/")[-1]
    process, base = start_portal(db, tmp_path, log_level="info")
    try:
        assert httpx.get(base + agency["path"]).status_code == 200
        assert httpx.get(base + agency["path"] + "/bieu-mau.xlsx").status_code == 200
        assert httpx.get(base + "/bao-cao/made.up").status_code == 403
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    log = (tmp_path / "portal.log").read_text()
    request_id = __import__("json").loads(
        __import__("base64").urlsafe_b64decode(token.split(".")[0] + "==")
    )["r"]
    assert f"GET /bao-cao/<link r{request_id}> HTTP/1.1" in log
    assert f"GET /bao-cao/<link r{request_id}>/bieu-mau.xlsx" in log
    assert "GET /bao-cao/<link invalid> HTTP/1.1" in log
    assert token not in log and token.split(".")[1] not in log and "made.up" not in log
