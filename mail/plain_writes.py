"""Many small writes of one statement, and the rows of many messages, handed to the database
driver as they are.

SQLAlchemy processes every parameter set of an executemany in Python (about 15 us a row);
the delivery bookkeeping writes one row per message several times a run (the data-sent and
acceptance marks, each message's reply), so that processing was a large part of its cost.
Here a statement is compiled once per dialect, the values shared by every row are converted
by their column types once per call, and each row's own values (ints and strings, which every
driver takes as they are) go to the driver's executemany untouched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Dialect, Update


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: Sequence[str] | None  # parameter order for positional drivers (SQLite's "?")
    constants: dict[str, Any]  # values the statement fixes itself (``status == 'sending'``)
    converters: dict[str, Callable[[Any], Any]]  # column types of the other parameters


def executemany_plain(
    connection: Connection,
    statement: Update,
    rows: Sequence[Mapping[str, int | str | None]],
    **shared: Any,
) -> None:
    """``statement`` once per row, in one executemany. ``rows`` give each row's own
    parameters (ints and strings: not converted); ``shared`` the parameters the same for
    every row (a time, say), converted by their column types once."""
    if not rows:
        return
    plan = _plan(statement, connection.dialect)
    fixed = dict(plan.constants)
    for name, value in shared.items():
        convert = plan.converters.get(name)
        fixed[name] = convert(value) if convert is not None and value is not None else value
    if plan.names is not None:
        params: list[Any] = [tuple(r[n] if n in r else fixed[n] for n in plan.names) for r in rows]
    else:  # psycopg's "%(name)s"
        params = [{**fixed, **r} for r in rows]
    if not connection.in_transaction():
        connection.begin()  # so that the connection's commit commits what the cursor wrote
    # The driver's own cursor: ``exec_driver_sql`` would cost about 8 us more a call, and a
    # delivery run makes one or two calls a message.
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(plan.sql, params)
    finally:
        cursor.close()


@lru_cache(maxsize=32)
def _plan(statement: Update, dialect: Dialect) -> _Plan:
    compiled = statement.compile(dialect=dialect)
    sql, names = compiled.string, compiled.positiontup
    constants: dict[str, Any] = {}
    converters: dict[str, Callable[[Any], Any]] = {}
    for name, bind in compiled.binds.items():
        if not (name in (names or ()) or f"%({name})s" in sql):
            continue
        # The dialect's own type: on SQLite a time becomes its text here, once, not per row
        # by the driver's default adapter (deprecated since Python 3.12).
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if bind.required:  # bindparam("name") without a value: given at each call
            if convert is not None:
                converters[name] = convert
            continue
        value = bind.effective_value
        if isinstance(value, str):
            value = str(value)  # a StrEnum member as the plain string it stands for
        constants[name] = convert(value) if convert is not None and value is not None else value
    return _Plan(sql, names, constants, converters)


def read_by_message(connection: Connection, query: str, keys: list[int]) -> list[tuple[Any, ...]]:
    """``query``'s rows for the messages ``keys`` ("{keys}" in ``query`` stands for "is one
    of them"), straight from the database driver: a delivery run reads every claimed
    message's ~60 KB at each attempt, and SQLAlchemy's statement and row handling made that
    read 1.4-2x as costly (4,500 messages: 137-227 ms of CPU, 97-106 ms without;
    benchmarks/README.md). One statement text for any number of keys: a JSON array on
    SQLite, an array on PostgreSQL."""
    cursor = connection.connection.cursor()
    try:
        if connection.dialect.name == "sqlite":
            sql = query.format(keys="IN (SELECT value FROM json_each(?))")
            cursor.execute(sql, (json.dumps(keys),))
        else:
            cursor.execute(query.format(keys="= ANY(%s)"), (keys,))
        return list(cursor)
    finally:
        cursor.close()
