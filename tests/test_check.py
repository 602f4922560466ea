"""`r42 check`, the go-live checklist, as ops run it: a fresh folder, no tty, 80 columns, one
broken setting at a time and several at once; every finding one row naming the setting."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cli.check_command import render_table
from cli.check_registry import check_registry
from cli.checks import FAIL, OK, WARN, Row, check_smtp
from config.registry_files import PROGRAMMES_DIR
from tests.servers import SmtpServer, free_port, make_tls_files

ROOT = Path(__file__).resolve().parents[1]
STRONG = "s" * 48


def r42(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "R42_", "SSL_"))}
    clean.update(
        COLUMNS="80",
        TERM="dumb",
        PYTHONPATH=str(ROOT),
        PREFECT_HOME=str(folder / ".prefect"),
        R42_MAIL__ALLOWED_DOMAINS=".example",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=folder,
        env=clean,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def rows_of(folder: Path, **env: str) -> tuple[int, list[dict]]:
    done = r42(folder, "check", "--json", "--no-prefect", **env)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def only(rows: list[dict], status: str) -> list[str]:
    return [f"{r['check']}: {r['message']}" for r in rows if r["status"] == status]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Path:
    """A folder where `r42 load-registry` ran on the embedded default, once for the module
    (a process start and a migration: seconds)."""
    folder = tmp_path_factory.mktemp("loaded")
    assert r42(folder, "load-registry").returncode == 0
    return folder


@pytest.fixture
def demo(loaded, tmp_path) -> Path:
    """A copy of that folder of the test's own (its database and files are the test's to
    change): byte for byte what `r42 load-registry` leaves, which writes no absolute path."""
    shutil.copytree(loaded, tmp_path, dirs_exist_ok=True)
    return tmp_path


def test_the_demo_passes_with_warnings_only(demo):
    code, rows = rows_of(demo)
    assert code == 0 and only(rows, FAIL) == []
    statuses = {r["check"]: r["status"] for r in rows if r["status"] == OK}
    assert {"settings", "database", "registry", "smtp", "outbox"} <= set(statuses)
    assert any("vinh-long-r42: registry of 01/07/2025 in force" in m for m in only(rows, OK))
    table = r42(demo, "check", "--no-prefect")
    assert table.returncode == 0
    assert all(len(line) <= 80 for line in table.stdout.splitlines())
    assert table.stdout.splitlines()[-1].startswith("0 failed, ")


@pytest.mark.parametrize(
    "env, line",
    [
        (
            {"R42_DATABASE__URL": "nonsense://"},
            "settings: R42_DATABASE__URL=nonsense://: unknown database type 'nonsense'",
        ),
        (
            {"R42_MAIL__SENDER_ADDRESS": "tổng hợp@vinhlong"},
            "settings: R42_MAIL__SENDER_ADDRESS=tổng hợp@vinhlong: not plain ASCII",
        ),
        (
            {"SSL_CERT_FILE": "/etc/ssl/certs/ca-certificate.crt"},
            "settings: SSL_CERT_FILE=/etc/ssl/certs/ca-certificate.crt: no such file (a typo?)",
        ),
        (
            {"R42_MAIL__TRANSPORT": "smtp"},
            "settings: R42_WEB_FORM__LINK_SECRET is the placeholder from the source code",
        ),
        (
            {"R42_WEB_FORM__LINK_SECRET": "short", "R42_MAIL__TRANSPORT": "smtp"},
            "settings: R42_WEB_FORM__LINK_SECRET is 5 bytes",
        ),
        (
            {"R42_MAIL__SMTP_PORT": "25x"},
            "settings: R42_MAIL__SMTP_PORT=25x: Input should be a valid integer",
        ),
    ],
    ids=["database-url", "sender", "ssl-cert-file", "placeholder", "short-secret", "port"],
)
def test_each_bad_setting_is_one_fail_line_naming_it(demo, env, line):
    code, rows = rows_of(demo, **env)
    assert code == 1
    (failure,) = [f for f in only(rows, FAIL) if f.startswith("settings")]
    assert failure.startswith(line)
    assert "\n" not in failure


def test_an_unreachable_postgresql_is_one_line_without_the_password(tmp_path):
    port = free_port()
    url = f"postgresql+psycopg://r42:hunter2@127.0.0.1:{port}/r42"
    code, rows = rows_of(tmp_path, R42_DATABASE__URL=url, R42_WEB_FORM__LINK_SECRET=STRONG)
    assert code == 1
    (failure,) = only(rows, FAIL)
    assert failure.startswith(
        f"database: cannot reach the database of R42_DATABASE__URL "
        f"(postgresql+psycopg://r42:***@127.0.0.1:{port}/r42): "
    )
    assert "hunter2" not in json.dumps(rows)
    # the other commands say the same in one line
    done = r42(tmp_path, "load-registry", R42_DATABASE__URL=url, R42_WEB_FORM__LINK_SECRET=STRONG)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "cannot reach the database of R42_DATABASE__URL" in done.stderr


def test_several_problems_at_once_are_all_listed(tmp_path):
    code, rows = rows_of(
        tmp_path,
        R42_MAIL__TRANSPORT="smtp",
        R42_MAIL__SMTP_USERNAME="tonghop",
        R42_MAIL__SENDER_ADDRESS="not an address",
        SSL_CERT_FILE="/nowhere.pem",
    )
    assert code == 1
    failures = only(rows, FAIL)  # a setting that does not load hides the checks built on it
    assert [f.split("=")[0] for f in failures] == [
        "settings: R42_MAIL__SENDER_ADDRESS",
        "settings: SSL_CERT_FILE",
    ]
    code, rows = rows_of(
        tmp_path,
        R42_MAIL__TRANSPORT="smtp",
        R42_MAIL__SMTP_USERNAME="tonghop",
        SSL_CERT_FILE="/nowhere.pem",
    )
    settings = [f for f in only(rows, FAIL) if f.startswith("settings")]
    names = [f.split(": ", 1)[1].split("=")[0].split()[0] for f in settings]
    assert names == ["SSL_CERT_FILE", "R42_MAIL__SMTP_USERNAME", "R42_WEB_FORM__LINK_SECRET"]


def test_a_migration_behind_the_code_fails_naming_the_command(demo):
    import sqlite3

    with sqlite3.connect(demo / "data" / "r42.sqlite3") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0001'")
    code, rows = rows_of(demo)
    assert code == 1
    (failure,) = only(rows, FAIL)
    assert "is at schema 0001" in failure and "run `r42 load-registry`" in failure


def test_no_database_file_yet_says_to_load_the_registry_and_creates_nothing(tmp_path):
    code, rows = rows_of(tmp_path)
    assert code == 1 and "no database file yet" in only(rows, FAIL)[0]
    assert not (tmp_path / "data" / "r42.sqlite3").exists()


# --- registry files against the loaded ones ---------------------------------------------------


def test_registry_files_changed_deleted_future_or_sharing_addresses_are_reported(demo):
    root = demo / "programmes"
    shutil.copytree(PROGRAMMES_DIR, root)
    folder = root / "vinh-long-r42" / "registry"
    env = {"R42_CYCLE__PROGRAMMES_DIR": str(root)}
    assert r42(demo, "load-registry", **env).returncode == 0
    assert r42(demo, "load-registry", "--programme", "example-elderly-care", **env).returncode == 0
    code, rows = rows_of(demo, **env)
    assert only(rows, WARN) == [] or all(r.startswith("web:") for r in only(rows, WARN))

    (folder / "2024-11-21.yaml").unlink()  # deleted by mistake
    data = yaml.safe_load((folder / "2025-07-01.yaml").read_text(encoding="utf-8"))
    data["agencies"][1]["head_email"] = data["agencies"][0]["email"]  # one mailbox, two roles
    (folder / "2025-07-01.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    future = dt.date.today() + dt.timedelta(days=40)
    data["effective_from"] = future
    (folder / f"{future}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    code, rows = rows_of(demo, **env)
    warnings = "\n".join(only(rows, WARN))
    assert code == 0  # nothing here stops a cycle; each is for ops to look at
    assert "registry/2024-11-21.yaml was loaded but its file is gone" in warnings
    assert f"registry/{future}.yaml takes effect on {future:%d/%m/%Y}" in warnings
    assert f"files differ from the database (registry {future}, registry 2025-07-01)" in warnings
    assert f"addresses used more than once: {data['agencies'][0]['email']}" in warnings


def test_agencies_outside_the_allowed_domains_are_warned_about(configure, tmp_path):
    from tests.real_registry import write_real_registry

    write_real_registry(tmp_path)
    settings = configure(
        R42_CYCLE__PROGRAMMES_DIR=tmp_path,
        R42_CYCLE__PROGRAMME="vinh-long-thuc",
        R42_MAIL__ALLOWED_DOMAINS=".example",
        R42_DATABASE__URL=f"sqlite:///{tmp_path / 'none.sqlite3'}",
    )
    rows = check_registry(settings, today=dt.date(2026, 11, 2))
    (warning,) = [r.message for r in rows if "ALLOWED_DOMAINS" in r.message]
    assert warning.startswith("vinh-long-thuc: 137 agencies outside R42_MAIL__ALLOWED_DOMAINS")


# --- the relay ------------------------------------------------------------------------------------


def test_the_relay_is_greeted_and_left_without_sending(configure, smtp):
    settings = configure(
        R42_MAIL__TRANSPORT="smtp",
        R42_MAIL__SMTP_HOST="127.0.0.1",
        R42_MAIL__SMTP_PORT=smtp.port,
        R42_WEB_FORM__LINK_SECRET=STRONG,
    )
    (row,) = check_smtp(settings)
    assert row.status == OK and "EHLO" in row.message
    assert smtp.received == []


def test_a_relay_not_listening_fails_naming_the_host_setting(configure):
    port = free_port()
    settings = configure(
        R42_MAIL__TRANSPORT="smtp",
        R42_MAIL__SMTP_HOST="127.0.0.1",
        R42_MAIL__SMTP_PORT=port,
        R42_WEB_FORM__LINK_SECRET=STRONG,
    )
    (row,) = check_smtp(settings)
    assert row.status == FAIL
    assert row.message.startswith("R42_MAIL__SMTP_HOST=127.0.0.1: connection failed: ")
    assert str(port) in row.message


def test_an_untrusted_relay_certificate_says_to_set_the_ca_file(configure, tmp_path):
    _, _, server_context = make_tls_files(tmp_path)
    with SmtpServer(tls_context=server_context) as server:
        settings = configure(
            R42_MAIL__TRANSPORT="smtp",
            R42_MAIL__SMTP_HOST="127.0.0.1",
            R42_MAIL__SMTP_PORT=server.port,
            R42_MAIL__SMTP_SECURITY="starttls",
            R42_WEB_FORM__LINK_SECRET=STRONG,
        )
        (row,) = check_smtp(settings)
    assert row.status == FAIL
    assert f"certificate of 127.0.0.1:{server.port} not trusted" in row.message
    assert "set R42_MAIL__SMTP_CA_FILE" in row.message


def test_starttls_required_but_not_offered_sends_no_password(configure, smtp):
    settings = configure(
        R42_MAIL__TRANSPORT="smtp",
        R42_MAIL__SMTP_HOST="127.0.0.1",
        R42_MAIL__SMTP_PORT=smtp.port,
        R42_MAIL__SMTP_SECURITY="starttls",
        R42_WEB_FORM__LINK_SECRET=STRONG,
    )
    (row,) = check_smtp(settings)
    assert row.status == FAIL and "does not offer STARTTLS" in row.message


# --- the table ------------------------------------------------------------------------------------


def test_the_table_wraps_to_a_narrow_terminal_and_counts():
    rows = [
        Row(OK, "settings", "valid"),
        Row(FAIL, "database", "x " * 60 + "end"),
        Row(WARN, "registry", "a:\n  - first\n  ... and 3 more"),
    ]
    table = render_table(rows, 60).splitlines()
    assert all(len(line) <= 60 for line in table)
    assert table[0] == "OK    settings  valid"
    assert table[1].startswith("FAIL  database  x x")
    assert table[-1] == "1 failed, 1 warnings, 1 ok"
    assert "                - first" in table


# --- Prefect --------------------------------------------------------------------------------------


def test_without_a_prefect_server_it_warns_that_nothing_is_scheduled(monkeypatch):
    import asyncio

    from prefect.settings import PREFECT_API_URL, temporary_settings

    from cli.check_prefect import check_prefect

    with temporary_settings(updates={PREFECT_API_URL: None}):
        (row,) = asyncio.run(check_prefect())
    assert row.status == WARN and row.message.startswith("PREFECT_API_URL is not set")


def test_a_server_without_the_deployments_fails_naming_the_command(prefect_harness):
    import asyncio

    from cli.check_prefect import check_prefect
    from flows.serve import deployment_specs

    rows = asyncio.run(check_prefect())
    assert rows[0].status == OK and rows[0].message.startswith("API at ")
    missing = [r.message for r in rows if r.message.startswith("deployment ")]
    assert len(missing) == len(deployment_specs())
    assert all("missing: run `prefect deploy --all`" in m for m in missing)
    assert rows[-1].status == FAIL and rows[-1].message.startswith("no shared result storage")


def test_a_relay_with_a_private_ca_is_trusted_through_its_ca_file(configure, tmp_path):
    certificate, _, server_context = make_tls_files(tmp_path)
    with SmtpServer(tls_context=server_context, require_starttls=True) as server:
        settings = configure(
            R42_MAIL__TRANSPORT="smtp",
            R42_MAIL__SMTP_HOST="127.0.0.1",
            R42_MAIL__SMTP_PORT=server.port,
            R42_MAIL__SMTP_SECURITY="starttls",
            R42_MAIL__SMTP_CA_FILE=certificate,
            R42_WEB_FORM__LINK_SECRET=STRONG,
        )
        (row,) = check_smtp(settings)
    assert row.status == OK
    assert row.message == (
        f"127.0.0.1:{server.port}: EHLO, STARTTLS, certificate verified, QUIT without sending"
    )


# --- the outbox -----------------------------------------------------------------------------------


def test_stuck_and_failed_messages_are_reported(db, configure):
    from sqlalchemy import select, update

    from cli.checks import check_outbox
    from config.settings import get_settings
    from models.cycles import open_cycle
    from models.database import session_scope
    from models.orm import DeliveryStatus, OutgoingMessage
    from reporting.requests import queue_requests
    from tests.factories import PROGRAMME, at

    opened = dt.date(2026, 11, 2)
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, opened, session=session)
        queue_requests(cycle, session=session, settings=get_settings(), now=at(opened, 8))
    assert [r.status for r in check_outbox(get_settings())] == [OK]
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    with session_scope() as session:
        ids = session.scalars(select(OutgoingMessage.id).order_by(OutgoingMessage.id)).all()
        session.execute(
            update(OutgoingMessage)
            .where(OutgoingMessage.id.in_(ids[:2]))
            .values(status=DeliveryStatus.SENDING, claimed_at=long_ago)
        )
        session.execute(
            update(OutgoingMessage)
            .where(OutgoingMessage.id == ids[2])
            .values(status=DeliveryStatus.FAILED)
        )
    stuck, failed = check_outbox(get_settings())
    assert stuck.status == FAIL and stuck.message.startswith("2 messages claimed for sending")
    assert failed.status == WARN and failed.message.startswith("1 messages failed")
