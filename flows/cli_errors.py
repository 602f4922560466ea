"""What ``r42`` says, in one line, when a command fails for a reason ops can act on."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError


def database_unreachable(exc: OperationalError | DBAPIError, url: str) -> str:
    """'cannot reach the database of R42_DATABASE__URL (postgresql+psycopg://r42:***@db/r42):
    connection refused', the driver's first line, never a traceback."""
    shown = make_url(url).render_as_string(hide_password=True)
    cause = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
    reason = cause[0] if cause else type(exc).__name__
    return f"cannot reach the database of R42_DATABASE__URL ({shown}): {reason}"
