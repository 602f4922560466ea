"""Settings refused outside the demo (a placeholder or short link secret, an SMTP login without
TLS) by get_settings, hence by r42, the flows and the portal; link secret rotation."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cli import main as cli
from config.settings import get_settings
from config.startup_checks import MAKE_SECRET, UnsafeSettings
from models.cycles import ensure_requests, open_cycle
from models.database import session_scope
from portal.app import create_app
from reporting.messages import link_for
from tests.factories import PROGRAMME

ROOT = Path(__file__).resolve().parents[1]
STRONG = "k" * 32
PLACEHOLDER = "change-me-in-production-not-a-secret"
OPENED = dt.date(2026, 11, 2)


def refusal(configure, **env) -> str:
    with pytest.raises(UnsafeSettings) as info:
        configure(**env)
    return str(info.value)


@pytest.mark.parametrize(
    "env, reason",
    [
        ({"R42_MAIL__TRANSPORT": "smtp"}, "R42_MAIL__TRANSPORT=smtp"),
        ({"R42_DATABASE__URL": "postgresql+psycopg://r42@db/r42"}, "a PostgreSQL database"),
        (
            {"R42_WEB_FORM__PUBLIC_BASE_URL": "https://baocao.vinhlong.gov.vn"},
            "R42_WEB_FORM__PUBLIC_BASE_URL=https://baocao.vinhlong.gov.vn",
        ),
    ],
    ids=["smtp", "postgresql", "public-url"],
)
def test_the_placeholder_secret_is_refused_outside_the_demo(configure, env, reason):
    message = refusal(configure, R42_WEB_FORM__LINK_SECRET=PLACEHOLDER, **env)
    lines = message.splitlines()
    assert lines[0] == "refusing to start:" and len(lines) == 2
    assert lines[1].startswith("  R42_WEB_FORM__LINK_SECRET is the placeholder")
    assert reason in lines[1] and MAKE_SECRET in lines[1]


def test_a_secret_under_32_bytes_is_refused_and_32_bytes_is_enough(configure):
    message = refusal(configure, R42_MAIL__TRANSPORT="smtp", R42_WEB_FORM__LINK_SECRET="k" * 31)
    assert "R42_WEB_FORM__LINK_SECRET is 31 bytes" in message and "at least 32" in message
    # bytes, not characters: 11 Vietnamese letters of 3 bytes each are 33 bytes
    assert configure(R42_WEB_FORM__LINK_SECRET="ệ" * 11).web_form.link_secret
    assert configure(R42_WEB_FORM__LINK_SECRET=STRONG).mail.transport == "smtp"


def test_the_demo_runs_with_the_placeholder(configure, monkeypatch):
    monkeypatch.delenv("R42_WEB_FORM__LINK_SECRET", raising=False)
    settings = configure(
        R42_DATABASE__URL="sqlite:///data/r42.sqlite3",
        R42_WEB_FORM__PUBLIC_BASE_URL="http://localhost:8042",
    )
    assert settings.web_form.link_secret.get_secret_value() == PLACEHOLDER


def test_a_short_previous_secret_is_refused_too(configure):
    message = refusal(
        configure,
        R42_MAIL__TRANSPORT="smtp",
        R42_WEB_FORM__LINK_SECRET=STRONG,
        R42_WEB_FORM__PREVIOUS_LINK_SECRETS=f"{'o' * 40},short",
    )
    assert "R42_WEB_FORM__PREVIOUS_LINK_SECRETS[1] is 5 bytes" in message
    assert "[0]" not in message


def test_an_smtp_login_without_tls_is_refused_even_in_the_demo(configure):
    message = refusal(configure, R42_MAIL__SMTP_USERNAME="tonghop-nq42")
    assert "R42_MAIL__SMTP_USERNAME is set with R42_MAIL__SMTP_SECURITY=none" in message
    assert "in clear" in message and "starttls" in message
    both = refusal(
        configure,
        R42_MAIL__TRANSPORT="smtp",
        R42_WEB_FORM__LINK_SECRET=PLACEHOLDER,
        R42_MAIL__SMTP_USERNAME="tonghop-nq42",
    )
    assert len(both.splitlines()) == 3  # every problem at once, one line each
    fixed = configure(R42_MAIL__SMTP_SECURITY="starttls", R42_WEB_FORM__LINK_SECRET=STRONG)
    assert fixed.mail.smtp_username == "tonghop-nq42"


def test_r42_refuses_to_start_naming_the_setting(tmp_path):
    """As ops meet it: the command exits 2 with one line per problem and no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("R42_")}
    env.update(
        R42_MAIL__TRANSPORT="smtp",
        R42_DATABASE__URL=f"sqlite:///{tmp_path / 'r42.sqlite3'}",
        PYTHONPATH=str(ROOT),
    )
    for argv in (["load-registry"], ["open-cycle", "--year", "2026"], ["portal"]):
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", *argv],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.splitlines() == [
            f"r42 {argv[0]}: refusing to start:",
            "  R42_WEB_FORM__LINK_SECRET is the placeholder from the source code (outside the "
            "demo: R42_MAIL__TRANSPORT=smtp): anyone can forge links; make one with: "
            + MAKE_SECRET,
        ]
        assert not (tmp_path / "r42.sqlite3").exists()  # nothing ran


def test_the_portal_app_refuses_to_start(configure, monkeypatch):
    configure(R42_WEB_FORM__LINK_SECRET=STRONG)
    monkeypatch.setenv("R42_WEB_FORM__LINK_SECRET", PLACEHOLDER)
    monkeypatch.setenv("R42_MAIL__TRANSPORT", "smtp")
    get_settings.cache_clear()
    with pytest.raises(UnsafeSettings, match="R42_WEB_FORM__LINK_SECRET"):
        with TestClient(create_app()):
            pass


# --- rotation ------------------------------------------------------------------------------------


def _issued_token() -> str:
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, OPENED, session=session)
        request = ensure_requests(cycle, session=session)[0]
        url, _ = link_for(request, get_settings())
    return url.rsplit("/", 1)[1]


def test_a_link_signed_with_the_previous_secret_opens_until_it_expires(db, configure):
    old, new = "o" * 40, "n" * 40
    configure(R42_WEB_FORM__LINK_SECRET=old, R42_WEB_FORM__PUBLIC_BASE_URL="http://testserver")
    token = _issued_token()

    def status(**env) -> int:
        configure(**env)
        with TestClient(create_app(), raise_server_exceptions=False) as client:
            return client.get(f"/bao-cao/{token}").status_code

    assert status() == 200
    assert status(R42_WEB_FORM__LINK_SECRET=new) == 403  # rotated without keeping the old key
    assert status(R42_WEB_FORM__PREVIOUS_LINK_SECRETS=f"{'x' * 40}, {old}") == 200
    fresh = _issued_token()  # signed with the new key only
    assert fresh != token
    configure(R42_WEB_FORM__PREVIOUS_LINK_SECRETS="")
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        assert client.get(f"/bao-cao/{fresh}").status_code == 200
        assert client.get(f"/bao-cao/{token}").status_code == 403
