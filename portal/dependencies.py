"""What the portal's routes are given (FastAPI ``Depends``): the clock and the database session.

Tests replace them with ``app.dependency_overrides[current_time] = ...`` instead of patching a
module. The clock is also read where no dependency reaches (a middleware, an exception handler,
the receipt sender) through :func:`app_time`, so one override moves every part of the portal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy.orm import Session

from models.database import session_scope

LINK_PREFIX = "/bao-cao/{token}"  # every page of an agency's personal link


def current_time() -> dt.datetime:
    """The portal's clock (UTC)."""
    return dt.datetime.now(dt.UTC)


def app_time(app: FastAPI) -> dt.datetime:
    """The app's clock outside a route, overridden as the routes' is."""
    return app.dependency_overrides.get(current_time, current_time)()


def read_session() -> Iterator[Session]:
    """A read-only transaction around the route, ended before the response leaves. Writes open
    their own (``session_scope(write=True)``) once the post's body is read: on SQLite that
    transaction holds the database for writing, which no post waits for while uploading."""
    with session_scope() as session:
        yield session


Now = Annotated[dt.datetime, Depends(current_time)]
ReadSession = Annotated[Session, Depends(read_session, scope="function")]
