"""`r42 extensions` and `r42 extend`: agencies' requests for more time, listed and decided."""

from __future__ import annotations

import argparse

from cli.arguments import day_argument, deliver_queued, now, programme_of
from config.settings import get_settings
from models.cycles import get_cycle, get_request, local_today
from models.database import session_scope
from models.extensions import cycle_extensions, pending_extension
from models.registry_store import get_programme
from reporting.extensions import decide_extension, extension_rows, grant_on_own_initiative


def _year(args: argparse.Namespace) -> int:
    """--year, else the current year where the programme is."""
    if args.year is None:
        with session_scope() as session:
            args.year = local_today(get_programme(programme_of(args), session=session)).year
    return args.year


def cmd_extensions(args: argparse.Namespace) -> int:
    _year(args)
    with session_scope() as session:
        cycle = get_cycle(programme_of(args), args.year, session=session)
        found = cycle_extensions(cycle, session=session)
        rows = [r for r in extension_rows(found) if args.all or r["status"] != "replaced"]
    if not rows:
        print(f"No request for more time in {args.year}")
    for row in rows:
        granted = f" -> granted until {row['granted']}" if row["granted"] else ""
        print(
            f"{row['agency']}: {row['status']}, asked until {row['asked']}{granted}: "
            f"{row['reason']}" + (f" [note: {row['note']}]" if row["note"] else "")
        )
    return 0


def cmd_extend(args: argparse.Namespace) -> int:
    """Decide the agency's pending request (the date asked, or --until if shorter, or
    --refuse); without one, grant --until on the coordinator's own initiative."""
    _year(args)
    with session_scope() as session:
        request = get_request(programme_of(args), args.year, args.agency, session=session)
        pending = pending_extension(request)
        if pending is None:
            if args.refuse:
                raise LookupError(f"{args.agency} has no pending request for more time to refuse")
            if args.until is None:
                raise ValueError(f"{args.agency} has no pending request: give --until to grant one")
            grant_on_own_initiative(
                request, args.until, args.note, session=session, settings=get_settings(),
                actor=args.by, now=now(),
            )
            what = f"Granted {args.agency} more time until {args.until:%d/%m/%Y} (no request)"
        else:
            decide_extension(
                pending,
                grant=not args.refuse,
                until=args.until,
                note=args.note,
                session=session,
                settings=get_settings(),
                actor=args.by,
                now=now(),
            )
            what = (
                f"Refused the request of {args.agency}"
                if args.refuse
                else f"Granted {args.agency} more time until {pending.granted_until:%d/%m/%Y}"
            )
        cycle_id = request.cycle_id
    print(f"{what}; the agency is emailed the decision")
    deliver_queued(cycle_id)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register `r42 extensions` and `r42 extend`."""
    p = sub.add_parser("extensions", help="list the agencies' requests for more time")
    p.add_argument("--year", type=int, help="cycle year (default: the current year)")
    p.add_argument("--programme", help="programme code (default: the configured one)")
    p.add_argument("--all", action="store_true", help="also requests replaced by a newer one")
    p.set_defaults(handler=cmd_extensions)

    p = sub.add_parser(
        "extend", help="grant or refuse an agency's request for more time (it is emailed)"
    )
    p.add_argument("--year", type=int, help="cycle year (default: the current year)")
    p.add_argument("--programme", help="programme code (default: the configured one)")
    p.add_argument("--agency", required=True, help="agency code, e.g. so-y-te")
    p.add_argument(
        "--until", type=day_argument,
        help="date granted (default: the date asked; a shorter one may be given)",
    )
    p.add_argument("--refuse", action="store_true", help="refuse the pending request")
    p.add_argument("--note", default="", help="a note to the agency (Vietnamese, emailed)")
    p.add_argument("--by", default="ops", help="who decides (recorded in the audit trail)")
    p.set_defaults(handler=cmd_extend)
