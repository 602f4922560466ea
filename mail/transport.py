"""How stored messages leave: one interface (``Transport``) and its SMTP implementation; the
local outbox folder's is ``mail.outbox_folder``."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from config.mail_settings import MailSettings
from mail.relay import RelayRefused, RelayUnavailable, open_session, tls_context
from mail.smtp_session import ConnectionLost, SmtpSession, TransactionOutcome
from models.orm import DeliveryStatus


@dataclass(frozen=True)
class Envelope:
    """What a transport needs to send one stored message to its recipients still waiting."""

    message_id: str
    name: str  # readable and unique, e.g. "2026-request-so-y-te"; names outbox files
    sender: str
    recipients: list[str]
    raw: bytes
    key: int = 0  # the outbox row
    retry: bool = False  # an earlier attempt settled some of the message's recipients
    # ``raw`` can follow DATA as it is (``mail.wire.check_wire_form``): the outbox stores
    # nothing else, so its framing is not checked again at each attempt.
    wire_form: bool = False


@dataclass(frozen=True)
class DeliveryResult:
    """What became of one message's recipients in one attempt.

    ``status`` and ``reply`` hold for every recipient of the envelope but those in
    ``refused`` (refused at RCPT: address, PENDING or FAILED, the relay's reply). PENDING
    means "temporary failure, try again later". ``attempted`` is False when nothing was tried
    (the relay was unreachable or refused the run): the message keeps its attempts.
    """

    message_id: str
    status: DeliveryStatus
    reply: str
    refused: tuple[tuple[str, DeliveryStatus, str], ...] = ()
    attempted: bool = True

    def outcomes(self, recipients: Sequence[str]) -> dict[str, tuple[DeliveryStatus, str]]:
        """Status and reply of each recipient of the attempt."""
        own = {address: (status, reply) for address, status, reply in self.refused}
        return {r: own.get(r, (self.status, self.reply)) for r in recipients}


def deferred(envelope: Envelope, reason: str) -> DeliveryResult:
    """Not tried in this run, through no fault of the message."""
    return DeliveryResult(envelope.message_id, DeliveryStatus.PENDING, reason, attempted=False)


class BeforeData(Protocol):
    """Records that a message's data is about to leave (``mail.data_marks.DataSentMarks``)."""

    def request(self, key: int) -> Mark: ...

    def accepted(self, key: int, reply: str, *, settles: bool) -> None: ...

    async def aclose(self) -> None: ...


class Mark(Protocol):
    async def wait(self) -> None: ...

    def cancel(self) -> None: ...


class Transport(Protocol):
    """Delivers envelopes and says, for each, what became of it; ``refusal`` says why the
    transport stopped trying (the relay refused this installation), if it did. One with
    ``takes_batches_ahead`` set may be given a batch before the one it sends has returned."""

    refusal: str | None

    async def deliver(self, envelopes: Sequence[Envelope]) -> list[DeliveryResult]: ...

    async def aclose(self) -> None: ...


def classify(code: int) -> DeliveryStatus:
    """4xx: try again later; anything else the relay refused: failed for good."""
    return DeliveryStatus.PENDING if 400 <= code < 500 else DeliveryStatus.FAILED


def result_of(envelope: Envelope, outcome: TransactionOutcome) -> DeliveryResult:
    """The transaction's outcome in the outbox's terms."""
    refused = tuple((r, classify(reply.code), str(reply)) for r, reply in outcome.refused)
    if outcome.error is not None:
        if outcome.data_sent:  # the data may have reached the relay: resending could duplicate
            return DeliveryResult(
                envelope.message_id, DeliveryStatus.UNKNOWN, f"after data: {outcome.error}", refused
            )
        return DeliveryResult(
            envelope.message_id, DeliveryStatus.PENDING, f"before data: {outcome.error}"
        )
    reply = outcome.reply
    if not outcome.recipients:  # every recipient refused at RCPT: the message stands as they do
        temporary = any(status == DeliveryStatus.PENDING for _, status, _ in refused)
        status = DeliveryStatus.PENDING if temporary else DeliveryStatus.FAILED
        text = "; ".join(f"{address}: {reply}" for address, _, reply in refused)
        return DeliveryResult(envelope.message_id, status, text, refused)
    assert reply is not None
    if outcome.data_sent and reply.code == 250:
        return DeliveryResult(envelope.message_id, DeliveryStatus.SENT, str(reply), refused)
    return DeliveryResult(envelope.message_id, classify(reply.code), str(reply), refused)


class _Batch:
    """One ``deliver`` call: its envelopes and their results as they come in."""

    def __init__(self, envelopes: Sequence[Envelope]):
        self.envelopes = envelopes
        self.results: dict[str, DeliveryResult] = {}
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def settle(self, envelope: Envelope, result: DeliveryResult) -> None:
        self.results[envelope.message_id] = result
        if len(self.results) == len(self.envelopes) and not self.done.done():
            self.done.set_result(None)


class SmtpTransport:
    """Sends over a bounded set of reused relay connections sharing one TLS context.

    ``deliver`` may be called again before an earlier call has returned: its envelopes queue
    behind the earlier ones and go out on the same connections, so that a delivery run can
    hand over its next batch while one is sent and no connection waits between batches.
    ``before_data`` (``mail.data_marks``) is awaited before each message's data leaves, so
    that a run killed while sending leaves "unknown" only the messages whose data may have
    reached the relay. ``refusal`` is set when the relay refused this installation (login,
    certificate): no further message is tried in the run.
    """

    # A delivery run hands over its batch ahead as soon as it is claimed (``mail.delivery``).
    takes_batches_ahead = True

    def __init__(self, settings: MailSettings, before_data: BeforeData | None = None):
        self.settings = settings
        self.before_data = before_data
        self.tls_context = tls_context(settings)
        self.refusal: str | None = None
        self._idle: list[SmtpSession] = []  # connections kept between batches of a run
        self._logged_in = False  # a connection of this run got through: the others may open
        self._first = asyncio.Lock()
        self._down: str | None = None  # the relay could not be reached by the running workers
        self._queue: deque[tuple[Envelope, _Batch]] = deque()  # every call's, in order
        self._batches: set[_Batch] = set()  # calls not yet returned
        self._workers: set[asyncio.Task[None]] = set()

    async def deliver(self, envelopes: Sequence[Envelope]) -> list[DeliveryResult]:
        if not envelopes:
            return []
        batch = _Batch(envelopes)
        if self.refusal is None:
            if not self._workers:
                self._down = None
            self._batches.add(batch)
            self._queue.extend((envelope, batch) for envelope in envelopes)
            room = self.settings.smtp_connections - len(self._workers)
            for _ in range(min(room, len(self._queue))):
                worker = asyncio.ensure_future(self._worker())
                self._workers.add(worker)
            try:
                await batch.done
            except asyncio.CancelledError:  # the run stops: so does every connection
                for worker in list(self._workers):
                    worker.cancel()
                raise
            finally:
                self._batches.discard(batch)
        return [
            batch.results.get(e.message_id) or deferred(e, self.refusal or "not tried in this run")
            for e in envelopes
        ]

    async def _worker(self) -> None:
        """One connection: sends what is queued, whichever call it came from, until nothing
        is left; then waits, open, for the run's next batch (``_idle``)."""
        session = self._idle.pop() if self._idle else None
        try:
            while self._queue and self.refusal is None:
                envelope, batch = self._queue.popleft()
                if session is None or session.closed:
                    try:
                        session = await self._open()
                    except RelayRefused as exc:
                        self.refusal = str(exc)
                        batch.settle(envelope, deferred(envelope, self.refusal))
                        return
                    except RelayUnavailable as exc:
                        # Not the messages' fault: they wait without using an attempt.
                        batch.settle(envelope, deferred(envelope, str(exc)))
                        self._defer_queued(str(exc))
                        return
                batch.settle(envelope, await self._send(session, envelope))
        except BaseException as exc:
            if session is not None:
                session.close()  # perhaps mid-transaction: not reused
            if not isinstance(exc, Exception):
                raise  # cancelled
            # A bug, the outbox gone: every call not returned fails with it.
            for batch in self._batches:
                if not batch.done.done():
                    batch.done.set_exception(exc)
            self._queue.clear()
            for worker in self._workers - {asyncio.current_task()}:
                worker.cancel()
        finally:
            self._workers.discard(asyncio.current_task())  # type: ignore[arg-type]
            if session is not None and not session.closed:
                self._idle.append(session)  # reused by the next batch of this delivery run
            if not self._workers:  # stopped by a refusal: what is queued is not tried
                self._defer_queued(self.refusal or "not tried in this run")

    def _defer_queued(self, reason: str) -> None:
        while self._queue:
            envelope, batch = self._queue.popleft()
            batch.settle(envelope, deferred(envelope, reason))

    async def _open(self) -> SmtpSession:
        """A new connection. Until one has got through, connections open one at a time: a
        wrong password is tried once per run, not once per connection."""
        if self._logged_in:
            return await open_session(self.settings, self.tls_context)
        async with self._first:
            if self.refusal is not None:
                raise RelayRefused(self.refusal)
            if self._down is not None:
                raise RelayUnavailable(self._down)
            try:
                session = await open_session(self.settings, self.tls_context)
            except RelayUnavailable as exc:
                self._down = str(exc)
                raise
            self._logged_in = True
            return session

    async def _send(self, session: SmtpSession, envelope: Envelope) -> DeliveryResult:
        mark = self.before_data.request(envelope.key) if self.before_data else None
        try:
            outcome = await session.transaction(
                envelope.sender or self.settings.sender_address,
                envelope.recipients,
                envelope.raw,
                mark.wait if mark is not None else None,
                wire_form=envelope.wire_form,
            )
        finally:
            if mark is not None:
                mark.cancel()  # not needed when the transaction ended before the data
        if outcome.reply is not None and outcome.reply.code in (530,) and not outcome.data_sent:
            self.refusal = (
                f"the relay requires a login ({outcome.reply}): set R42_MAIL__SMTP_USERNAME "
                "and R42_MAIL__SMTP_PASSWORD"
            )
            return deferred(envelope, self.refusal)
        result = result_of(envelope, outcome)
        if self.before_data is not None and result.status == DeliveryStatus.SENT:
            if not result.refused:
                settles = not envelope.retry  # no recipient settled by an earlier attempt
                self.before_data.accepted(envelope.key, result.reply, settles=settles)
        return result

    async def aclose(self) -> None:
        """Say goodbye on every connection kept between batches, all at once (one round
        trip, not one per connection)."""
        await self.quit_connections()
        if self.before_data is not None:
            await self.before_data.aclose()

    async def quit_connections(self) -> None:
        idle, self._idle = self._idle, []
        await asyncio.gather(*(session.quit() for session in idle))

    async def reuse(self, before_data: BeforeData | None) -> None:
        """Before a further delivery run on the connections kept since the last one
        (``mail.runner``): the run's marks, and each kept connection answers a NOOP or is
        closed, so that a connection the relay dropped meanwhile is opened again before any
        data, not found dead in a message's transaction. The run starts as a new one would:
        no refusal yet, and a first new connection alone until one gets through."""
        self.before_data, self.refusal, self._logged_in, self._down = before_data, None, False, None
        idle, self._idle = self._idle, []
        alive = await asyncio.gather(*(_answers(session) for session in idle))
        self._idle = [session for session, ok in zip(idle, alive, strict=True) if ok]


async def _answers(session: SmtpSession) -> bool:
    try:
        if not session.closed and (await session.command(b"NOOP")).code == 250:
            return True
    except (ConnectionLost, OSError):
        pass
    session.close()
    return False
