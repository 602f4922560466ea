"""Receipts on the portal: the page a stored post redirects to, and the receipt sender, one
background thread per portal process that sends the receipts submissions have queued, with the
delivery run every flow uses (``mail.delivery``).

A submission's transaction queues its receipt in the outbox before the response leaves; the
sender is then told the cycle has mail due. Runs are coalesced: during a burst (the last run
served more than one post) a run starts at most every ``interval`` (0.5) seconds and sends
everything due by then, instead of one run per submission (a run's CPU a receipt: ~1.3 ms at 10
receipts a run, ~0.9 at 25, SQLite); a lone post's receipt goes at once. The runs share one
event loop, the cycles' sending facts and, over SMTP, the relay connections, closed after a few
idle seconds (``mail.runner``): a run with nothing to send costs ~2 ms of CPU, not ~6. A receipt never depends on this thread: if the process dies, the receipts
it had not sent are still pending in the outbox and the ``deliver-outbox`` deployment (or the
next run) sends them; runs claim messages, so processes never send one twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import bindparam, select
from starlette.exceptions import HTTPException as StarletteHTTPException

from config.settings import get_settings
from mail.runner import DeliveryRunner
from models.orm import Submission
from portal.access import open_request
from portal.dependencies import LINK_PREFIX, Now, ReadSession
from portal.pages import page
from reporting.cycle_kinds import kind_of
from reporting.messages import common_context
from reporting.revision_summary import receipt_context

logger = logging.getLogger("portal")
Deliver = Callable[..., object]
router = APIRouter(prefix=LINK_PREFIX)


# The one revision a receipt page shows, not every revision of the request.
_REVISION = select(Submission).where(
    Submission.request_id == bindparam("request"), Submission.revision == bindparam("revision")
)


@router.get("/bien-nhan/{revision}", response_class=HTMLResponse)
def receipt(
    token: str,
    revision: int,
    session: ReadSession,
    now: Now,
    unchanged: bool = Query(False, alias="khong-doi"),
) -> Response:
    """The receipt of one revision (404 for a revision the request does not have)."""
    settings = get_settings()
    request = open_request(token, session=session, settings=settings.web_form, now=now)
    submission = (  # a number no revision can have (the column's 32 bits) is none of them
        session.scalar(_REVISION, {"request": request.id, "revision": revision})
        if 0 < revision < 2**31
        else None
    )
    if submission is None:
        raise StarletteHTTPException(404)
    return page(
        kind_of(request.cycle).form.receipt_template,
        **common_context(request.cycle, settings),
        agency_name=request.agency.name,
        token=token,
        unchanged=unchanged,
        **receipt_context(submission),
    )


class ReceiptSender:
    """Wakes when told a cycle has receipts due; delivers each such cycle once per run.

    The runs are ``deliver_configured``'s, one after another on one ``DeliveryRunner`` (its
    event loop kept for the thread's life), unless ``deliver`` is given."""

    def __init__(
        self,
        now: Callable[[], dt.datetime],
        *,
        interval: float = 0.5,
        deliver: Deliver | None = None,
    ) -> None:
        self._now, self._interval, self._deliver = now, interval, deliver
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._due: dict[int, list[Future[None]]] = {}  # cycle -> who waits for its next run
        self._stopping = False
        self._thread: threading.Thread | None = None

    def notify(self, cycle_id: int) -> Future[None]:
        """The cycle has mail due: a run starts soon. The future is done when a run that
        began after this call has ended (sent, or left pending for the next run)."""
        done: Future[None] = Future()
        with self._lock:
            self._due.setdefault(cycle_id, []).append(done)
            if self._thread is None or not self._thread.is_alive():
                if self._stopping:  # shutting down: the deliver-outbox deployment sends it
                    done.set_result(None)
                    return done
                self._thread = threading.Thread(
                    target=self._run, name="receipt-sender", daemon=True
                )
                self._thread.start()
        self._wake.set()
        return done

    def stop(self, timeout: float = 30.0) -> None:
        """Send what is due once more, then end the thread (waits up to ``timeout``)."""
        with self._lock:
            self._stopping = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        if self._deliver is not None:
            self._send_while_due(self._deliver, None)
            return
        runner = DeliveryRunner()
        try:
            self._send_while_due(runner.deliver, runner)
        finally:
            runner.close()  # its kept relay connections say QUIT

    def _send_while_due(self, deliver: Deliver, runner: DeliveryRunner | None) -> None:
        last, burst = -self._interval, False
        while True:
            if runner is not None and runner.holds_connections:
                if not self._wake.wait(runner.idle_seconds):
                    try:
                        runner.close_idle()  # no receipt for a while: QUIT
                    except Exception:  # a relay gone meanwhile: its sockets are closed anyway
                        logger.exception("closing the idle relay connections failed")
                    continue
            else:
                self._wake.wait()
            pause = last + self._interval - time.monotonic()
            if burst and pause > 0 and not self._stopping:
                time.sleep(pause)  # a burst: let more receipts join this run
            with self._lock:
                self._wake.clear()
                due, self._due = self._due, {}
                stopping = self._stopping
            # More than one post waited for this run: posts come faster than runs, and the
            # next run gathers for ``interval``. A lone post's receipt goes at once.
            burst = sum(map(len, due.values())) > 1
            for cycle_id, waiting in sorted(due.items()):
                try:
                    deliver(cycle_id, now=self._now())
                except Exception:  # the receipts stay pending: the next run sends them
                    logger.exception("sending receipts of cycle %s failed", cycle_id)
                finally:
                    for done in waiting:
                        done.set_result(None)
            last = time.monotonic()
            if stopping:
                with self._lock:
                    if not self._due:
                        return


RECEIPT_WAIT = 30.0  # seconds a request's cycle waits for its receipt's run after the response


async def receipt_sent(receipts: ReceiptSender, cycle_id: int) -> None:
    """After the response: tell the process's receipt sender, and wait (on the event loop,
    holding no thread) until its run has ended, so that the request's cycle ends with its
    receipt sent, as when each post ran its own delivery."""
    await asyncio.wait({asyncio.wrap_future(receipts.notify(cycle_id))}, timeout=RECEIPT_WAIT)


def to_receipt(
    http: Request,
    token: str,
    revision: int,
    cycle_id: int,
    unchanged: bool,
    background: BackgroundTasks,
) -> RedirectResponse:
    """Post/Redirect/Get to the receipt, the receipt email sent by the process's receipt
    sender after the response; a post identical to the latest revision stored nothing, queued
    no email, and its page says so."""
    if not unchanged:
        background.add_task(receipt_sent, http.app.state.receipts, cycle_id)
    return RedirectResponse(
        f"/bao-cao/{token}/bien-nhan/{revision}" + ("?khong-doi=1" if unchanged else ""),
        status_code=303,
        background=background,
    )
