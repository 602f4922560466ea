"""What ``r42`` says, in one line, when a command fails for a reason ops can act on."""

from __future__ import annotations

import os

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError


def database_unreachable(exc: OperationalError | DBAPIError, url: str) -> str:
    """'cannot reach the database of R42_DATABASE__URL (postgresql+psycopg://r42:***@db/r42):
    connection refused', the driver's first line, never a traceback."""
    shown = make_url(url).render_as_string(hide_password=True)
    cause = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
    reason = cause[0] if cause else type(exc).__name__
    return f"cannot reach the database of R42_DATABASE__URL ({shown}): {reason}"


# Prefect's temporary server gets 20 s to start; on a busy machine r42 run directly failed with
# "Timed out while attempting to connect to ephemeral Prefect API server".
EPHEMERAL_STARTUP = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
EPHEMERAL_STARTUP_DEFAULT = "120"


def allow_slow_prefect_start() -> None:
    """Give the temporary Prefect server r42 starts 120 s, unless ops set their own value."""
    os.environ.setdefault(EPHEMERAL_STARTUP, EPHEMERAL_STARTUP_DEFAULT)


def explain(message: str) -> str:
    """``message`` with what to do when it is one ops can act on."""
    if "ephemeral Prefect API server" in message:
        first = message.splitlines()[0].split(" stdout:")[0].split(" stderr:")[0]
        return (
            f"{first} (waited {os.environ.get(EPHEMERAL_STARTUP)} s): the machine is busy; set "
            f"{EPHEMERAL_STARTUP} higher, or run `prefect server start` once and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    return message
