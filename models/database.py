"""Engine, sessions and migrations for the application database."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from config.settings import get_settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# SQLite maps up to this much of the database file into memory for reading (address space,
# not memory: pages are shared with the OS cache).
SQLITE_MMAP_BYTES = 1 << 30


def make_engine(
    url: str, *, echo: bool = False, pool_size: int = 5, durable: bool = True
) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL, a busy timeout and reads through
    a memory map (a delivery run reads each ~60 KB message body at every attempt: about 10 us
    less a message than a read call per page).

    ``durable=False`` (SQLite): a commit is not flushed to the disk (``synchronous=NORMAL``
    in WAL mode): it survives the process being killed, not the machine losing power. For
    bookkeeping a machine crash would lose anyway (a delivery run's claims, marks and
    outcomes), where the flush, about 1-10 ms a commit here, would hold SQLite's one writer
    turn for that long."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            if not durable:
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, echo=echo, pool_size=pool_size, pool_pre_ping=True)


_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()  # every engine get_engine has made


@lru_cache(maxsize=8)
def get_engine(url: str | None = None, *, durable: bool = True) -> Engine:
    """The process-wide engine for ``url`` (default: the configured database); ``durable``:
    see :func:`make_engine`."""
    settings = get_settings().database
    engine = make_engine(
        url or settings.url, echo=settings.echo, pool_size=settings.pool_size, durable=durable
    )
    _ENGINES.add(engine)
    return engine


def reset_engines() -> None:
    """Forget the process's engines (its settings changed: a test, the demo, a benchmark) and
    close their pooled connections now. Forgotten, an engine's connections stay open until the
    garbage collector frees it (engines are reference cycles), which may be long after: a test
    process that reconfigured its database a few hundred times ran PostgreSQL out of
    connections ("too many clients") once its posts stopped making cyclic garbage, so that
    full collections became rare. A connection in use stays usable; it is closed when given
    back."""
    for engine in list(_ENGINES):
        engine.dispose()
    get_engine.cache_clear()


class WriterTurn:
    """This process's turn to write one SQLite database, held by a writer to the end of its
    transaction (:func:`session_scope`): a waiting writer is woken as soon as the previous one
    ends, instead of polling in SQLite's busy handler.

    A writer that must not wait behind a queue of others (a delivery run's data-sent marks,
    written in its event loop, which never blocks: ``mail.data_marks``) asks with
    :meth:`take_next`: if the turn is held, the writers that come after wait (up to
    ``NEXT_SECONDS``) until it has taken it and given it back (:meth:`give_back`)."""

    NEXT_SECONDS = 1.0

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._next = threading.Condition()
        self._asked_at: float | None = None  # when a writer asked to go next
        self._when_free: Callable[[], None] | None = None  # how to tell it
        self._owner: int | None = None
        self._depth = 0

    def __enter__(self) -> None:
        if self._owner != threading.get_ident():  # a nested transaction of the owner: no wait
            with self._next:
                self._next.wait_for(self._nobody_next, timeout=self.NEXT_SECONDS)
        self._lock.acquire()
        self._owner, self._depth = threading.get_ident(), self._depth + 1

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if not self._depth:
            self._owner = None
        self._lock.release()
        if not self._depth:
            with self._next:
                when_free, self._when_free = self._when_free, None
            if when_free is not None:
                when_free()

    def _nobody_next(self) -> bool:
        return self._asked_at is None or time.monotonic() - self._asked_at > self.NEXT_SECONDS

    def take_next(self, when_free: Callable[[], None] | None = None) -> bool:
        """The turn, if it is free (then :meth:`give_back` it); else False, the writers that
        come after wait until this one has had it, and ``when_free`` is called (from the
        thread that ends its transaction) as soon as the turn is free."""
        if self._lock.acquire(blocking=False):
            return True
        with self._next:
            if self._asked_at is None:
                self._asked_at = time.monotonic()
            self._when_free = when_free
        return False

    def give_back(self) -> None:
        self._lock.release()
        with self._next:
            self._asked_at = None
            self._next.notify_all()


_SQLITE_WRITERS: dict[str, WriterTurn] = {}  # database URL -> this process's writer turn


def sqlite_writer_turn(engine: Engine) -> WriterTurn:
    """This process's turn to write the SQLite database of ``engine``."""
    return _SQLITE_WRITERS.setdefault(str(engine.url), WriterTurn())


_SESSIONS: weakref.WeakKeyDictionary[Engine, sessionmaker[Session]] = weakref.WeakKeyDictionary()


def _sessions(engine: Engine) -> sessionmaker[Session]:
    """The session factory of ``engine``, made once: each new ``sessionmaker`` makes a Session
    class of its own, whose first session sets up its events (about 120 us, against 17 for a
    session of a factory already used)."""
    factory = _SESSIONS.get(engine)
    if factory is None:
        factory = _SESSIONS[engine] = sessionmaker(engine, expire_on_commit=False)
    return factory


@contextmanager
def session_scope(
    url: str | None = None, *, write: bool = False, durable: bool = True
) -> Iterator[Session]:
    """One transaction: commits on success, rolls back on any error. ``write``: the
    transaction will write, so it takes the database for writing first (:func:`begin_write`).
    ``durable=False``: the commit survives this process being killed, not a power loss
    (:func:`make_engine`).

    On SQLite the writers of one process (the portal's threads) also take turns on a lock of
    their own, held to the end of the transaction: a waiting writer is woken as soon as the
    previous one ends, instead of polling in SQLite's busy handler (sleeps of up to 100 ms, in
    no order), which made the slowest posts of a burst wait seconds."""
    engine = get_engine(url)  # the cache entry its other callers dispose of
    if not durable and engine.dialect.name == "sqlite":  # the same on PostgreSQL
        engine = get_engine(url, durable=False)
    turn = nullcontext()
    if write and engine.dialect.name == "sqlite":
        turn = sqlite_writer_turn(engine)
    with turn, _sessions(engine)() as session, session.begin():
        if write:
            begin_write(session)
        yield session


def per_transaction(session: Session, name: str) -> dict[Any, Any]:
    """A memo of ``name`` (a key of ``session.info``) that lives as long as the session's
    current transaction; outside a transaction, a memo of nothing (a new dict).

    The transaction is held by a weak reference: a strong one (``session.info`` -> the
    transaction -> its session) made every session that used a memo a reference cycle, with
    its connection, transaction and event dispatchers, freed only by the cyclic garbage
    collector: ~72 objects a web-form post, whose collections cost the portal ~10 % of its
    CPU on deadline day (benchmarks/README.md, "Eighth round")."""
    transaction = session.get_transaction()
    if transaction is None:
        return {}
    kept = session.info.get(name)
    if kept is None or kept[0]() is not transaction:
        kept = session.info[name] = (weakref.ref(transaction), {})
    return kept[1]


def begin_write(session: Session) -> None:
    """Take the database for writing before reading anything: the one way every write path
    (form post, upload, draft, audit line) starts its transaction.

    SQLite allows one writer; a transaction that has read and then writes fails at once
    ("database is locked", no waiting) when another writer committed in between. ``BEGIN
    IMMEDIATE`` instead waits its turn (the busy timeout), then reads what is current.
    PostgreSQL needs nothing here: writers lock the rows they change (``lock_request``).
    Call it first in the transaction; on SQLite it is a no-op once a write has begun.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url or get_settings().database.url)
    return config


def upgrade_database(url: str | None = None) -> None:
    """Bring the database schema to the single head revision."""
    url = url or get_settings().database.url
    config = alembic_config(url)
    with get_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def check_schema(url: str | None = None) -> None:
    """Refuse a database whose schema is behind the code; the error says what to run."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    url = url or get_settings().database.url
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    with get_engine(url).connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        raise RuntimeError(
            f"the database schema is at {current or 'nothing'}, the code needs "
            f"{head}: run `r42 load-registry` (it migrates) first"
        )
