"""Read the agencies' replies with the filled form from the mailbox (R42_INBOX__*)."""

import datetime as dt
from dataclasses import asdict

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from config.settings import get_settings
from flows.artifact_tables import replies_table
from flows.common import CycleRef, deliver_messages
from mail.inbox import Inbox
from models.database import check_schema, session_scope
from models.orm import Cycle
from reporting.replies import read_replies


@task(cache_policy=NO_CACHE, retries=1, retry_delay_seconds=30)
def read_mailbox(now: dt.datetime) -> list[dict]:
    """Every message waiting in the replies folder, recorded, answered and moved."""
    settings = get_settings()
    with Inbox(settings.inbox, settings.mail) as mailbox:
        return [asdict(o) for o in read_replies(mailbox, settings=settings, now=now)]


def _cycle_refs(ids: set[int]) -> list[CycleRef]:
    with session_scope() as session:
        cycles = [session.get(Cycle, i) for i in sorted(ids)]
        return [CycleRef(c.id, c.programme.code, c.year, c.deadline, c.kind) for c in cycles if c]


@flow(name="read-replies")
def read_replies_flow(as_of: dt.datetime | None = None, deliver: bool = True) -> dict:
    """Store the forms agencies sent back by email, answer each sender once, and list what
    could not be used for the coordinator.

    Args:
        as_of: simulated 'now' (with its UTC offset), for the demo and tests.
        deliver: send the receipts and answers at once (else the deliver-outbox run does).
    """
    logger = get_run_logger()
    settings = get_settings()
    if not settings.inbox.enabled:
        logger.info("No mailbox configured (R42_INBOX__HOST): nothing to read")
        return {"read": 0}
    check_schema()
    now = as_of or dt.datetime.now(dt.UTC)
    outcomes = read_mailbox(now)
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome["status"]] = counts.get(outcome["status"], 0) + 1
    if outcomes:
        create_table_artifact(
            key="replies-inbox",
            table=replies_table(outcomes),
            description=f"Thư trả lời đọc lúc {now:%H:%M %d/%m/%Y} (UTC): "
            + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())),
        )
    if deliver:
        for cycle in _cycle_refs({o["cycle_id"] for o in outcomes if o["cycle_id"]}):
            deliver_messages(cycle, now)
    logger.info("Read %d message(s): %s", len(outcomes), counts or "none waiting")
    return {"read": len(outcomes), **counts}
