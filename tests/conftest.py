"""Fixtures: Prefect's test harness once per session, SQLite and a real PostgreSQL, real SMTP."""

from __future__ import annotations

import itertools
import os
import shutil
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# Tests never mail a real domain: a message to another is refused before it is queued.
os.environ.setdefault("R42_MAIL__ALLOWED_DOMAINS", ".example")
# A PostgreSQL database is "outside the demo": the placeholder link secret would be refused.
os.environ.setdefault("R42_WEB_FORM__LINK_SECRET", "test-only-link-secret-0123456789abcdefghijklmnopq")
# `make test` runs the suite on pytest-xdist workers (gw0, gw1, ...), each a process with its
# own session fixtures (PostgreSQL cluster, templates, Prefect harness, tmp_path). A flow run
# outside the harness uses Prefect's home (its SQLite database): one each, set before Prefect
# is imported.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if XDIST_WORKER:
    _prefect_home = Path(os.environ.get("PREFECT_HOME", "~/.prefect")).expanduser()
    os.environ["PREFECT_HOME"] = str(_prefect_home / f"xdist-{XDIST_WORKER}")

from config.registry_files import load_programme  # noqa: E402
from config.settings import get_settings  # noqa: E402
from models.database import get_engine, reset_engines, session_scope, upgrade_database  # noqa: E402
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


# The slowest modules, longest first (seconds on one process, `--durations=0`): run first, the
# two longest on different workers, so that the xdist workers share the many short modules left
# at the end and finish together. The other modules follow in their usual order.
SLOWEST_FIRST = (
    "test_production",  # ~350 s: a whole production layout, Prefect's 90 s crash detection
    "test_production_layout",  # ~320 s: up/down/up of the layout through its command line
    "test_suspension",  # ~200 s
    "test_flows",
    "test_programmes",
    "test_replies",
    "test_demo",
    "test_signing",
    "test_serve_shutdown",
    "test_evaluation_round",
    "test_evaluation_demo",
    "test_extension_flow",
    "test_browser",
)


def _module_name(item: pytest.Item) -> str:
    return item.module.__name__.rsplit(".", 1)[-1] if item.module else ""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = _module_name(item)
        harness = "prefect_harness" in getattr(item, "fixturenames", ())
        if (module in LONG_RUNNING_MODULES or harness) and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(LONG_TIMEOUT))
    rank = {module: index for index, module in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(_module_name(item), len(rank)))  # stable


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


TEMPLATE_DATABASE = "r42_template"


def _migrate_and_load(url: str) -> None:
    """What a fresh application database holds before a test: the schema at the head revision
    and the shipped registry; the engine is closed after, so nothing stays connected."""
    upgrade_database(url)
    with session_scope(url) as session:
        load_registry(load_programme("vinh-long-r42"), session=session)
    get_engine(url).dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """The SQLite file every `db` test starts from: migrated and loaded once per session."""
    path = tmp_path_factory.mktemp("template") / "r42.sqlite3"
    _migrate_and_load(f"sqlite:///{path}")
    # The last connection closed checkpointed the WAL: the main file is the whole database.
    assert not path.with_name(path.name + "-wal").exists()
    return path


def _connections_to(connection, database: str) -> int:
    return connection.execute(
        text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name"), {"name": database}
    ).scalar_one()


@pytest.fixture(scope="session")
def postgres_template(postgres_server) -> str:
    """The PostgreSQL database every `db` test is created from (CREATE DATABASE ... TEMPLATE):
    migrated and loaded once per session, then closed to connections (a template must have
    none while it is copied)."""
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{TEMPLATE_DATABASE}"'))
    _migrate_and_load(postgres_server.rsplit("/", 1)[0] + f"/{TEMPLATE_DATABASE}")
    with admin.connect() as connection:
        connection.execute(
            text(f'ALTER DATABASE "{TEMPLATE_DATABASE}" IS_TEMPLATE true ALLOW_CONNECTIONS false')
        )
        # A closed connection's server process exits a moment after the client has gone (seconds
        # on a loaded machine, with two xdist workers and more): wait for it, a leak stays.
        deadline = time.monotonic() + 30
        left = _connections_to(connection, TEMPLATE_DATABASE)
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = _connections_to(connection, TEMPLATE_DATABASE)
    admin.dispose()
    assert left == 0, f"{left} connection(s) to the template database remain"
    return TEMPLATE_DATABASE


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh database on each backend: empty (a test that migrates it itself), or, when the
    test uses `db`, a copy of the session's migrated template (the SQLite file copied,
    `CREATE DATABASE ... TEMPLATE` on PostgreSQL): migrations run once per session, not per
    test; tests/test_migrations.py still runs them on empty databases."""
    migrated = "db" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "r42.sqlite3"
        if migrated:
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        server = request.getfixturevalue("postgres_server")
        template = request.getfixturevalue("postgres_template") if migrated else None
        name = f"r42_test_{os.getpid()}_{next(_counter)}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            source = f' TEMPLATE "{template}"' if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{source}'))
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
        reset_engines()
        return get_settings()

    monkeypatch.setenv("R42_MAIL__OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("R42_CYCLE__REPORTS_DIR", str(tmp_path / "reports"))
    yield apply
    get_settings.cache_clear()
    reset_engines()


@pytest.fixture
def db(request, database_url, configure):
    """A migrated database with the shipped registry loaded (a copy of the session's template,
    see `database_url`); the configured one for the test."""
    configure(R42_DATABASE__URL=database_url)
    if "db" not in request.node.fixturenames:
        # Asked for with request.getfixturevalue: `database_url` could not know and made it empty.
        _migrate_and_load(database_url)
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
