"""Fixtures: Prefect's test harness once per session, SQLite and a real PostgreSQL, real SMTP."""

from __future__ import annotations

import itertools
import os

import pytest
from sqlalchemy import create_engine, text

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# Tests never mail a real domain: a message to another is refused before it is queued.
os.environ.setdefault("R42_MAIL__ALLOWED_DOMAINS", ".example")
# A PostgreSQL database is "outside the demo": the placeholder link secret would be refused.
os.environ.setdefault("R42_WEB_FORM__LINK_SECRET", "test-only-link-secret-0123456789abcdefghijklmnopq")

from config.registry_files import load_programme  # noqa: E402
from config.settings import get_settings  # noqa: E402
from models.database import get_engine, session_scope, upgrade_database  # noqa: E402
from models.registry_store import load_registry  # noqa: E402
from tests.servers import PostgresCluster, SmtpServer  # noqa: E402

_counter = itertools.count()

# The per-test time-out (pyproject.toml, 180 s) is for hangs; these run whole cycles, layouts or
# Prefect's harness (whose first user pays its start) and get longer, unless they set their own.
LONG_RUNNING_MODULES = {
    "test_demo",
    "test_evaluation_demo",
    "test_production",
    "test_production_layout",
    "test_suspension",
    "test_browser",
}
LONG_TIMEOUT = 900


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        harness = "prefect_harness" in getattr(item, "fixturenames", ())
        if (module in LONG_RUNNING_MODULES or harness) and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(LONG_TIMEOUT))


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session (it takes ~10 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The approved 2026 report on its own SQLite database (tests/report_data.py), built once:
    drawing and writing its files takes seconds."""
    from tests.report_data import build

    return build(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="session")
def postgres_server():
    cluster = PostgresCluster()
    url = cluster.start()
    yield url
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, migrated database on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'r42.sqlite3'}"
    else:
        server = request.getfixturevalue("postgres_server")
        name = f"r42_test_{os.getpid()}_{next(_counter)}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = server.rsplit("/", 1)[0] + f"/{name}"
    yield url


@pytest.fixture
def configure(monkeypatch, tmp_path):
    """Apply settings through the environment, as ops would; returns the fresh settings."""

    def apply(**env: str):
        for key, value in env.items():
            monkeypatch.setenv(key, str(value))
        get_settings.cache_clear()
        get_engine.cache_clear()
        return get_settings()

    monkeypatch.setenv("R42_MAIL__OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("R42_CYCLE__REPORTS_DIR", str(tmp_path / "reports"))
    yield apply
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.fixture
def db(database_url, configure):
    """A migrated database with the shipped registry loaded; the configured one for the test."""
    configure(R42_DATABASE__URL=database_url)
    upgrade_database()
    with session_scope() as session:
        load_registry(load_programme("vinh-long-r42"), session=session)
    yield database_url
    get_engine().dispose()


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def smtp_settings(configure, smtp):
    """Mail goes to the in-process SMTP server."""
    return configure(
        R42_MAIL__TRANSPORT="smtp",
        R42_MAIL__SMTP_HOST="127.0.0.1",
        R42_MAIL__SMTP_PORT=smtp.port,
        R42_MAIL__SMTP_TIMEOUT=5,
        R42_MAIL__MAX_ATTEMPTS=3,
    )
