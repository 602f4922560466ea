"""Tasks and helpers every flow of the cycle shares: the clock, the cycle, delivery."""

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

from prefect import get_run_logger, task
from prefect.artifacts import (
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select

from config.settings import get_settings
from flows.artifact_tables import deliveries_table
from mail.delivery import deliver_configured
from mail.queue import delivery_counts
from models.cycles import get_cycle, local_today
from models.database import check_schema, session_scope
from models.orm import CycleKind, OutgoingMessage
from models.registry_store import get_programme
from reporting.cycle_kinds import CYCLE_KINDS


@dataclass(frozen=True)
class RunScope:
    """What a flow run works on: programme, year, and its clock."""

    programme: str
    year: int
    now: dt.datetime  # the real clock, or a simulated moment given by ops or the demo
    today: dt.date  # ``now`` in the programme's timezone


def run_scope(year: int | None, programme: str | None, as_of: dt.datetime | None) -> RunScope:
    """Fill in the defaults of a flow's parameters: configured programme, current year, now."""
    if as_of is not None and as_of.tzinfo is None:
        raise ValueError("as_of must carry a timezone, e.g. 2026-12-01T08:00:00+07:00")
    check_schema()  # a clear "run r42 load-registry" rather than a missing-column error
    now = as_of or dt.datetime.now(dt.UTC)
    programme = programme or get_settings().cycle.programme
    with session_scope() as session:
        today = local_today(get_programme(programme, session=session), now)
    return RunScope(programme, year or today.year, now, today)


@dataclass(frozen=True)
class CycleRef:
    """A cycle, by what tasks need to find it again in their own transaction."""

    id: int
    programme: str
    year: int
    deadline: dt.date
    kind: str = CycleKind.ANNUAL


def report_name(cycle: CycleRef) -> str:
    """What the coordinator calls the cycle in the UI: 'báo cáo năm 2026', 'báo cáo sơ kết
    năm 2025'."""
    return CYCLE_KINDS[CycleKind(cycle.kind)].report_name(cycle.year)


def cycle_ref(programme: str, year: int, kind: str = CycleKind.ANNUAL) -> CycleRef:
    with session_scope() as session:
        cycle = get_cycle(programme, year, session=session, kind=kind)
        return CycleRef(cycle.id, programme, year, cycle.deadline, kind)


def artifact_key(prefix: str, cycle: CycleRef) -> str:
    """'delivery-vinh-long-r42-2026', with the kind for evaluation rounds ('...-2025-midterm')."""
    kind = "" if cycle.kind == CycleKind.ANNUAL else f"-{cycle.kind}"
    return f"{prefix}-{cycle.programme}-{cycle.year}{kind}"


ProgressListener = Callable[[str, int, int], None]  # (what, done, total)
_listeners: list[ProgressListener] = []


def add_progress_listener(listener: ProgressListener) -> Callable[[], None]:
    """Also tell ``listener`` (e.g. the terminal bar of ``r42``) of progress in this process."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


class StageProgress:
    """A long stage's progress: a progress artifact in the UI, and any listener in the process.

    The artifact is updated at most every ``every`` seconds (each update is an API call), and
    always at the end.
    """

    def __init__(self, key: str, what: str, description: str, every: float = 1.0) -> None:
        self.what, self.every = what, every
        self.artifact_id = create_progress_artifact(0.0, key=key, description=description)
        self.shown, self.shown_at = 0.0, time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        for listener in list(_listeners):
            listener(self.what, done, total)
        percent = 100.0 if total <= 0 else round(100.0 * min(done, total) / total, 1)
        finished = done >= total
        if percent != self.shown and (finished or time.monotonic() - self.shown_at >= self.every):
            update_progress_artifact(self.artifact_id, progress=percent)
            self.shown, self.shown_at = percent, time.monotonic()


def _unsent(cycle_id: int) -> int:
    with session_scope() as session:
        counts = delivery_counts(cycle_id, session=session)
    return counts.get("pending", 0) + counts.get("sending", 0)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30)
def deliver_messages(cycle: CycleRef, now: dt.datetime) -> dict[str, int]:
    """Send the cycle's pending messages, showing progress, and publish what became of each."""
    total = _unsent(cycle.id)
    progress = StageProgress(
        artifact_key("delivery-progress", cycle),
        "Gửi thư",
        f"Gửi {total} thư, {report_name(cycle)}",
    )
    with ThreadPoolExecutor(1) as pool:  # delivery runs its own event loop; we watch the outbox
        sending = pool.submit(deliver_configured, cycle.id, now=now)
        while wait([sending], timeout=0.5).not_done:
            progress(max(total - _unsent(cycle.id), 0), total)  # others may queue meanwhile
        run = sending.result()
    progress(total, total)
    logger = get_run_logger()
    if run.refused:
        logger.error("Stopped sending, every message left pending: %s", run.refused)
    elif run.unavailable:
        logger.warning("The mail relay could not be reached; the next run tries again: %s",
                       run.unavailable)
    if run.unknown_after_crash:
        logger.warning(
            "%d messages of a delivery run that died may have been sent: listed as unknown "
            "(r42 deliveries; r42 release after checking with the recipients)",
            run.unknown_after_crash,
        )
    with session_scope() as session:
        counts = delivery_counts(cycle.id, session=session)
        if run.results or run.stopped:
            sent = {r.message_id: r.reply for r in run.results}
            rows = session.execute(
                select(
                    OutgoingMessage.message_id,
                    OutgoingMessage.recipient_key,
                    OutgoingMessage.kind,
                    OutgoingMessage.rung,
                    OutgoingMessage.status,
                ).where(OutgoingMessage.cycle_id == cycle.id)
            )
            table = deliveries_table(
                [
                    (key, status, kind, rung, sent[mid])
                    for mid, key, kind, rung, status in rows
                    if mid in sent
                ]
            )
            stopped = (
                f" Dừng gửi, mọi thư còn lại đang chờ (bộ phận vận hành cần xử lý): {run.stopped}"
                if run.stopped
                else ""
            )
            create_table_artifact(
                key=artifact_key("delivery", cycle),
                table=table,
                description=f"Gửi {len(run.results)} thư, chu kỳ {cycle.year}.{stopped}",
            )
    logger.info("Delivered %d messages; cycle totals by status: %s", len(run.results), counts)
    return counts
