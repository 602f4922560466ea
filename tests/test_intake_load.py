"""Deadline day on a real portal process: form posts, drafts, Excel uploads back to back (each
with its receipt delivered after it) and an outsider flooding made-up links, all at once, on
SQLite and PostgreSQL. Nothing may answer 500 or 503, and every revision is stored once."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import openpyxl
import pytest
from sqlalchemy import func, select

from config.registry_files import load_programme
from config.settings import get_settings
from documents.vietnamese import format_number
from models.cycles import cycle_requests, ensure_requests, get_cycle, open_cycle
from models.database import session_scope
from models.orm import AuditEvent, OutgoingMessage, Submission
from reporting.messages import link_for
from tests.factories import PROGRAMME
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
FORM_AGENCIES, UPLOAD_AGENCIES = 6, 3
ROUNDS, UPLOADS_EACH = 4, 5


def start_portal(
    url: str, tmp_path: Path, log_level: str = "warning"
) -> tuple[subprocess.Popen, str]:
    """``r42 portal``'s app in its own process (uvicorn), on the test's database."""
    port = free_port()
    env = {
        **os.environ,
        "R42_DATABASE__URL": url,
        "R42_WEB_FORM__PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "R42_WEB_FORM__LINK_VALID_DAYS": "3650",
        "R42_MAIL__OUTBOX_DIR": str(tmp_path / "outbox"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "portal.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", log_level],
        cwd=ROOT, env=env, stdout=open(tmp_path / "portal.log", "wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/health").status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError((tmp_path / "portal.log").read_text())


@pytest.fixture
def portal(db, configure, tmp_path):
    configure(R42_WEB_FORM__LINK_VALID_DAYS=3650, R42_WEB_FORM__PUBLIC_BASE_URL="http://x")
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        ensure_requests(cycle, session=session)
    process, base = start_portal(db, tmp_path)
    yield process, base, tmp_path / "portal.log"
    if process.poll() is None:
        process.kill()


def agencies() -> list[dict]:
    """Each agency's link path, and its rows as the form and the workbook name them."""
    found = []
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2026, session=session)
        for request in cycle_requests(cycle, session=session):
            if request.agency.task_groups:
                found.append(
                    {
                        "code": request.agency.code,
                        "path": "/bao-cao/" + link_for(request, get_settings())[0].split("/")[-1],
                        "kinds": {i.code: i.kind for i in request.agency.indicators},
                        "groups": [g.code for g in request.agency.task_groups],
                    }
                )
    return found


# A value inside each indicator's plausible range, so that no post stops at the step that asks
# the clerk to confirm a value that looks wrong (portal/confirmation.py).
PLAUSIBLE = {t.code: t.plausible for t in load_programme(PROGRAMME).programme.targets}


def value_for(code: str, kind: str) -> str:
    if kind == "yes_no":
        return "có"
    if PLAUSIBLE.get(code):
        low, high = PLAUSIBLE[code]
        return format_number((low + high) / 2, decimals=0 if kind == "count" else 1)
    return {"count": "12"}.get(kind, "50,5")


def form_fields(agency: dict, action: str, csrf: str, n: int) -> dict[str, str]:
    fields = {"csrf_token": csrf, "action": action}
    fields |= {f"value__{code}": value_for(code, kind) for code, kind in agency["kinds"].items()}
    for group in agency["groups"]:
        fields |= {f"status__{group}": "done", f"results__{group}": f"Lần {n}: đã thực hiện."}
    return fields


def csrf_of(client: httpx.Client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def filled_workbook(client: httpx.Client, agency: dict, n: int = 0) -> bytes:
    download = client.get(agency["path"] + "/bieu-mau.xlsx")
    assert download.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(download.content))
    for row in workbook["Chỉ tiêu"].iter_rows(min_row=1):
        if row[0].value in agency["kinds"]:
            row[6].value = value_for(row[0].value, agency["kinds"][row[0].value])
    for row in workbook["Nhiệm vụ"].iter_rows(min_row=1):
        if row[0].value in agency["groups"]:
            row[3].value, row[4].value = "Hoàn thành", f"Đã hoàn thành kế hoạch (lần {n})."
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_uploads_posts_drafts_and_a_bad_link_flood_at_once_never_fail(portal):
    process, base, log = portal
    everyone = agencies()
    posting, uploading = everyone[:FORM_AGENCIES], everyone[FORM_AGENCIES:][:UPLOAD_AGENCIES]
    assert len(uploading) == UPLOAD_AGENCIES
    outcomes: Counter[str] = Counter()
    flood: Counter[int] = Counter()
    failures: list[str] = []
    done = threading.Event()
    start = threading.Barrier(len(posting) + len(uploading) + 2)

    def check(what: str, response: httpx.Response, status: int, fragment: str = "") -> None:
        if response.status_code == status and fragment in response.text:
            outcomes[what] += 1
        else:
            failures.append(f"{what}: {response.status_code} {response.text[:300]}")

    def post_forms(agency: dict) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            csrf = csrf_of(client, agency["path"])
            start.wait(60)
            for n in range(ROUNDS):
                draft = client.post(agency["path"], data=form_fields(agency, "save", csrf, n))
                check("draft", draft, 200, "Đã lưu bản nháp")
                sent = client.post(agency["path"], data=form_fields(agency, "submit", csrf, n))
                check("submit", sent, 303)

    def upload_back_to_back(agency: dict) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            contents = [filled_workbook(client, agency, n) for n in range(UPLOADS_EACH)]
            csrf = csrf_of(client, agency["path"])
            start.wait(60)
            for content in contents:  # each a little different: a new revision each
                response = client.post(
                    agency["path"] + "/tai-len",
                    data={"csrf_token": csrf},
                    files={"file": ("bao-cao.xlsx", content, "application/octet-stream")},
                )
                check("upload", response, 303)

    def outsider(method: str) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            start.wait(60)
            while not done.is_set():
                path = f"/bao-cao/{secrets.token_urlsafe(24)}.{secrets.token_urlsafe(32)}"
                if method == "GET":
                    flood[client.get(path).status_code] += 1
                else:
                    flood[client.post(path, data={"x": "y" * 5000}).status_code] += 1

    workers = [threading.Thread(target=post_forms, args=(a,)) for a in posting]
    workers += [threading.Thread(target=upload_back_to_back, args=(a,)) for a in uploading]
    outsiders = [threading.Thread(target=outsider, args=(m,)) for m in ("GET", "POST")]
    for thread in workers + outsiders:
        thread.start()
    for thread in workers:
        thread.join(300)
    done.set()
    for thread in outsiders:
        thread.join(60)
    process.send_signal(signal.SIGTERM)  # its shutdown writes the last refusal counts
    process.wait(30)

    assert failures == [], failures[:3]
    assert outcomes == {
        "draft": FORM_AGENCIES * ROUNDS,
        "submit": FORM_AGENCIES * ROUNDS,
        "upload": UPLOAD_AGENCIES * UPLOADS_EACH,
    }
    assert set(flood) <= {403, 429} and flood[429] > 0, flood  # refused, then rate-limited
    assert "Traceback" not in log.read_text() and "database is locked" not in log.read_text()
    with session_scope() as session:
        stored = session.execute(
            select(Submission.request_id, func.count(), func.max(Submission.revision)).group_by(
                Submission.request_id
            )
        ).all()
        refused = list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == "link.refused"))
        )
    assert sorted(n for _, n, _ in stored) == [ROUNDS] * FORM_AGENCIES + [UPLOADS_EACH] * (
        UPLOAD_AGENCIES
    )
    assert all(n == top for _, n, top in stored)  # revisions 1..n, none lost or doubled
    # one audit row per client and minute, counting every refusal
    assert len(refused) <= 3 and sum(e.detail["count"] for e in refused) == flood.total()
    receipts = list((log.parent / "outbox").glob("*-receipt-*.eml"))
    assert len(receipts) == FORM_AGENCIES * ROUNDS + UPLOAD_AGENCIES * UPLOADS_EACH


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://r42@127.0.0.1:{port}/r42", "sqlite:////tmp"],
    ids=["postgresql-down", "sqlite-a-folder"],
)
def test_a_database_that_cannot_be_had_answers_503_try_again_later(configure, url):
    from fastapi.testclient import TestClient

    from portal.app import create_app
    from reporting.links import LinkClaims, make_token

    configure(R42_DATABASE__URL=url.format(port=free_port()))
    secret = get_settings().web_form.link_secret.get_secret_value()
    path = "/bao-cao/" + make_token(LinkClaims(1, 1, dt.date(2030, 1, 1)), secret)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        for response in (client.get(path), client.post(path, data={"action": "submit"})):
            assert response.status_code == 503 and response.headers["retry-after"] == "60"
            assert "thử lại sau ít phút" in response.text and "Traceback" not in response.text


@pytest.fixture
def portal_smtp(db, smtp_settings, smtp, tmp_path):
    """The portal process mailing through the in-process SMTP server."""
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        ensure_requests(cycle, session=session)
    process, base = start_portal(db, tmp_path)
    yield process, base, smtp
    if process.poll() is None:
        process.kill()


def test_a_burst_of_submissions_gets_one_receipt_each_delivered_once(portal_smtp):
    """Every post of a burst is acknowledged by exactly one receipt at the SMTP server: the
    process's receipt sender coalesces the burst into a few delivery runs, none sent twice."""
    process, base, smtp = portal_smtp
    posting = agencies()[:FORM_AGENCIES]
    start = threading.Barrier(len(posting))
    redirects: list[str] = []

    def burst(agency: dict) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            csrf = csrf_of(client, agency["path"])
            start.wait(60)
            for n in range(ROUNDS):
                sent = client.post(agency["path"], data=form_fields(agency, "submit", csrf, n))
                redirects.append(f"{sent.status_code} {sent.headers.get('location', '')}")

    threads = [threading.Thread(target=burst, args=(a,)) for a in posting]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    posts = FORM_AGENCIES * ROUNDS
    assert len(redirects) == posts and all(
        r.startswith("303 ") and "khong-doi" not in r for r in redirects
    ), redirects
    deadline = time.monotonic() + 30
    while len(smtp.received) < posts and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)  # a duplicate, were one sent, would arrive by now
    process.send_signal(signal.SIGTERM)
    process.wait(30)

    receipts = [m.message for m in smtp.received]
    assert len(receipts) == posts
    assert len({m["Message-ID"] for m in receipts}) == posts  # none delivered twice
    assert all("Đã nhận báo cáo năm 2026" in m["Subject"] for m in receipts)
    by_agency = Counter(m["To"].addresses[0].addr_spec for m in receipts)
    assert sorted(by_agency.values()) == [ROUNDS] * FORM_AGENCIES
    with session_scope() as session:
        statuses = Counter(
            session.scalars(select(OutgoingMessage.status).where(OutgoingMessage.kind == "receipt"))
        )
    assert statuses == {"sent": posts}
