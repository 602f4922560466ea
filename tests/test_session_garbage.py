"""A web-form post frees its session, transaction and connection as it ends, by reference
counting: none is left for the cyclic garbage collector, whose full collections walk the whole
heap of a portal process (~77 ms each on deadline day, benchmarks/README.md "Eighth round")."""

from __future__ import annotations

import gc

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction

from tests.test_portal import csrf, path_of, portal, valid_form  # noqa: F401


def cyclic_garbage(work) -> list[object]:  # type: ignore[no-untyped-def]
    """What the cyclic collector would free of what ``work()`` left behind."""
    gc.collect()
    debug = gc.get_debug()
    gc.set_debug(debug | gc.DEBUG_SAVEALL)
    try:
        gc.garbage.clear()
        work()
        gc.collect()
        return list(gc.garbage)
    finally:
        gc.set_debug(debug)
        gc.garbage.clear()


def test_web_form_posts_leave_no_session_for_the_cyclic_collector(portal):  # noqa: F811
    path = path_of()
    token = csrf(portal, path)

    def posts() -> None:
        for floor_area in ("28,4", "29", "29,5"):  # three revisions, each with its receipt
            response = portal.post(
                path, data=valid_form(token, value__floor_area=floor_area), follow_redirects=False
            )
            assert response.status_code == 303
            assert portal.get(response.headers["location"]).status_code == 200

    left = cyclic_garbage(posts)
    sessions = [o for o in left if isinstance(o, Session | SessionTransaction | Connection)]
    assert sessions == []
