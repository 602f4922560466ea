"""`r42 read-replies` and `r42 inbox`: the agencies' replies by email, read and listed."""

from __future__ import annotations

import argparse
from zoneinfo import ZoneInfo

from cli.arguments import moment_argument
from flows.artifact_tables import REPLY_STATUS_TEXT

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def cmd_read_replies(args: argparse.Namespace) -> int:
    from flows.read_replies import read_replies_flow

    print(read_replies_flow(as_of=args.as_of, deliver=not args.no_deliver))
    return 0


def cmd_inbox(args: argparse.Namespace) -> int:
    from models.database import session_scope
    from reporting.replies import inbox_rows

    with session_scope() as session:
        rows = inbox_rows(args.year, session=session)
        shown = [
            r
            for r in rows
            if args.all or r.sender_mismatch or r.status not in ("stored", "ignored")
        ]
        for row in shown:
            when = row.received_at.astimezone(LOCAL).strftime("%d/%m/%Y %H:%M")
            agency = row.request.agency.code if row.request else "-"
            status = REPLY_STATUS_TEXT.get(row.status, row.status)
            mismatch = " [sender not registered]" if row.sender_mismatch else ""
            print(f"{when}  {status:<32} {agency:<24} {row.sender}{mismatch}")
            print(f"    {row.subject[:100]}  {row.message_id}  -> {row.folder}")
            for line in row.reason.splitlines()[:20]:
                print(f"    {line}")
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.status] = counts.get(row.status, 0) + 1
    totals = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"
    print(f"{len(shown)} shown of {len(rows)} message(s) for {args.year} ({totals})")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:

    p = sub.add_parser("read-replies", help="read the agencies' replies with the filled form")
    p.add_argument("--as-of", type=moment_argument, help="simulated 'now', with its UTC offset")
    p.add_argument("--no-deliver", action="store_true", help="leave the answers to deliver-outbox")
    p.set_defaults(handler=cmd_read_replies)

    p = sub.add_parser(
        "inbox", help="the replies that could not be used, and those from unregistered senders"
    )
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--all", action="store_true", help="also those stored or ignored")
    p.set_defaults(handler=cmd_inbox)
