"""`r42 deliveries` and `r42 release`: what ops see of the outbox, and what they send again."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from cli.arguments import add_kind_argument, programme_of
from mail.deliveries import describe, open_deliveries, release, to_release
from mail.delivery import deliver_configured
from mail.queue import delivery_counts
from models.cycles import get_cycle
from models.database import session_scope
from models.orm import AuditEvent, DeliveryStatus


def _cycle(session, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    programme = programme_of(args)
    return get_cycle(programme, args.year, session=session, kind=args.kind)


def cmd_deliveries(args: argparse.Namespace) -> int:
    clock = dt.datetime.now(dt.UTC)
    with session_scope() as session:
        cycle = _cycle(session, args)
        for message in open_deliveries(cycle.id, session=session):
            print("\n".join(describe(message, clock)))
        counts = delivery_counts(cycle.id, session=session)
    needs_a_person = sum(counts.get(s, 0) for s in ("failed", "unknown", "partial"))
    totals = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    print(f"{needs_a_person} failed, unknown or partial in cycle {args.year} ({totals or 'none'})")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    statuses = (["failed", "partial"] if args.all_failed else []) + (
        ["unknown"] if args.all_unknown else []
    )
    if not args.message_id and not statuses:
        raise ValueError("name Message-IDs, or --all-failed / --all-unknown")
    with session_scope() as session:
        cycle = _cycle(session, args)
        chosen = to_release(cycle.id, session=session, message_ids=args.message_id, statuses=statuses)
        if not chosen:
            print(f"Nothing to release in cycle {args.year}")
            return 0
        unknown = sum(m.status == DeliveryStatus.UNKNOWN for m in chosen)
        print(
            f"{len(chosen)} message(s) to send again in cycle {args.year}"
            f" ({unknown} unknown: their recipients may already have them)"
        )
        if not args.yes and not _confirmed():
            print("Nothing released")
            return 1
        released = {m.message_id: release(m, session=session) for m in chosen}
        session.add(
            AuditEvent(
                actor=args.by,
                action="delivery.released",
                cycle_id=cycle.id,
                detail={"message_ids": list(released), "recipients": released},
            )
        )
        cycle_id = cycle.id
    print(f"Released {len(released)} message(s) for another attempt")
    run = deliver_configured(cycle_id, now=dt.datetime.now(dt.UTC))
    for result in run.results:
        print(f"  email {result.status}: {result.reply}")
    if run.stopped:
        print(f"  sending stopped, messages left pending: {run.stopped}")
    return 0


def _confirmed() -> bool:
    if not sys.stdin.isatty():
        print("Confirm with --yes when not at a terminal")
        return False
    return input("Send them again? [y/N] ").strip().lower() in ("y", "yes", "c", "có")


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the delivery commands on the `r42` parser."""
    for name, text, handler in (
        ("deliveries", "list messages not delivered to every recipient", cmd_deliveries),
        ("release", "send failed, unknown or partial messages again", cmd_release),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--year", type=int, required=True)
        p.add_argument("--programme", help="programme code (default: the configured one)")
        add_kind_argument(p)
        p.set_defaults(handler=handler)
    p.add_argument("message_id", nargs="*", help="Message-ID as `r42 deliveries` lists it")
    p.add_argument("--all-failed", action="store_true", help="every failed or partial message")
    p.add_argument("--all-unknown", action="store_true", help="every unknown message")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--by", default="ops", help="who acts (recorded in the audit trail)")
