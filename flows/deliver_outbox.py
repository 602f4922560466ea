"""Send what any cycle's outbox holds that is due: mail never waits for the next rung.

Every flow delivers what it queues; when the relay is down at that moment, the messages stay
pending. This flow, scheduled every few minutes (``deliver-outbox`` in prefect.yaml), sends
them as soon as the relay is back, retries what a 4xx deferred, and settles the claims of
delivery runs that died. It sends only what is due: a quiet outbox costs one query.
"""

import datetime as dt

from prefect import flow, get_run_logger

from config.settings import get_settings
from flows.common import CycleRef, deliver_messages
from mail.deliveries import cycles_to_deliver
from models.database import check_schema, session_scope
from models.orm import Cycle


def due_cycles(now: dt.datetime) -> list[CycleRef]:
    """Cycles with a message due now, or a claim whose delivery run died."""
    lease = dt.timedelta(seconds=get_settings().mail.claim_lease_seconds)
    with session_scope() as session:
        ids = cycles_to_deliver(session=session, clock=now, older_than=now - lease)
        cycles = [session.get_one(Cycle, cycle_id) for cycle_id in ids]
        return [CycleRef(c.id, c.programme.code, c.year, c.deadline, c.kind) for c in cycles]


@flow(name="deliver-outbox")
def deliver_outbox_flow() -> dict[str, dict[str, int]]:
    """Gửi các thư đang chờ trong hộp thư đi của mọi chu kỳ (thư xếp hàng khi máy chủ thư
    ngừng hoạt động được gửi ngay khi máy chủ hoạt động trở lại)."""
    check_schema()
    now = dt.datetime.now(dt.UTC)
    cycles = due_cycles(now)
    logger = get_run_logger()
    if not cycles:
        logger.info("Nothing is due in any outbox")
        return {}
    totals = {}
    for cycle in cycles:
        name = f"{cycle.programme}-{cycle.year}-{cycle.kind}"
        totals[name] = deliver_messages.with_options(task_run_name=f"deliver-{name}")(cycle, now)
    return totals
