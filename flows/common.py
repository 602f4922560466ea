"""Tasks and helpers every flow of the cycle shares: the clock, the cycle, delivery."""

import datetime as dt
from dataclasses import dataclass

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from config.settings import get_settings
from mail.delivery import deliver_configured
from models.cycles import get_cycle, local_today
from models.database import check_schema, session_scope
from models.messages import delivery_counts
from models.orm import CycleKind, OutgoingMessage
from models.registry_store import get_programme


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


def cycle_ref(programme: str, year: int, kind: str = CycleKind.ANNUAL) -> CycleRef:
    with session_scope() as session:
        cycle = get_cycle(programme, year, session=session, kind=kind)
        return CycleRef(cycle.id, programme, year, cycle.deadline, kind)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30)
def deliver_messages(cycle: CycleRef, now: dt.datetime) -> dict[str, int]:
    """Send the cycle's pending messages and publish what became of each."""
    results = deliver_configured(cycle.id, now=now)
    with session_scope() as session:
        counts = delivery_counts(cycle.id, session=session)
        if results:
            rows = {
                m.message_id: m
                for m in session.query(OutgoingMessage).filter(
                    OutgoingMessage.message_id.in_([r.message_id for r in results])
                )
            }
            table = [
                {
                    "agency": rows[r.message_id].recipient_key,
                    "kind": rows[r.message_id].kind,
                    "rung": rows[r.message_id].rung,
                    "status": rows[r.message_id].status,
                    "reply": r.reply,
                }
                for r in results
            ]
            create_table_artifact(
                key=f"delivery-{cycle.programme}-{cycle.year}",
                table=table,
                description=f"Delivery of {len(results)} messages, cycle {cycle.year}",
            )
    get_run_logger().info("Delivered %d messages; cycle totals by status: %s", len(results), counts)
    return counts
