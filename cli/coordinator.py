"""`r42` commands for coordinators and ops around intake: the web form, imports, send-backs."""

from __future__ import annotations

import argparse
from pathlib import Path
from zoneinfo import ZoneInfo

from cli.arguments import add_kind_argument, deliver_queued, now, programme_of
from config.settings import get_settings
from models.cycles import cycle_requests, get_cycle, get_request
from models.database import session_scope
from models.orm import Channel, CycleStatus, Request
from reporting import coordination
from reporting.intake import acknowledge
from reporting.messages import link_for


def _request(session, args: argparse.Namespace) -> Request:  # type: ignore[no-untyped-def]
    return get_request(programme_of(args), args.year, args.agency, session=session, kind=args.kind)


def cmd_portal(args: argparse.Namespace) -> int:
    from cli.portal_server import serve
    from models.database import check_schema

    check_schema()
    web = get_settings().web_form
    print(
        f"Web form on http://{web.host}:{web.port}, {web.workers} process(es) "
        f"(links in emails: {web.public_base_url})"
    )
    serve(web)
    return 0


def cmd_import_form(args: argparse.Namespace) -> int:
    from reporting.excel_import import import_form
    from reporting.excel_reader import ExcelFormError
    from reporting.revision_summary import confirm_import, import_summary

    data = Path(args.file).read_bytes()
    with session_scope() as session:
        try:
            submission = import_form(
                data,
                session=session,
                channel=Channel.OPS_IMPORT,
                submitted_at=now(),
                submitted_by=f"{args.by} (ops import of {Path(args.file).name})",
                programme=args.programme,
                year=args.year,
                agency=args.agency,
            )
        except ExcelFormError as exc:
            session.rollback()
            print(f"r42 import-form: {args.file}: nothing stored:")
            for error in exc.errors:
                print(f"  - {error}")
            return 2
        print("\n".join(import_summary(submission)))
        if not (args.yes or confirm_import()):  # who and what, read before it is stored
            session.rollback()
            print("Nothing stored (answer y, or pass --yes when no one is at the terminal).")
            return 1
        acknowledge(submission, session=session, settings=get_settings(), now=now())
        agency, cycle_id = submission.request.agency.code, submission.request.cycle_id
        print(
            f"Stored revision {submission.revision} for {agency}"
            + (" (late)" if submission.is_late else "")
        )
    deliver_queued(cycle_id)
    return 0


def cmd_send_back(args: argparse.Namespace) -> int:
    with session_scope() as session:
        request = _request(session, args)
        coordination.send_back(
            request,
            args.reason,
            session=session,
            settings=get_settings(),
            actor=args.by,
            now=now(),
        )
        cycle_id = request.cycle_id
    print(f"Sent back the latest report of {args.agency}; the agency is emailed the reason")
    deliver_queued(cycle_id)
    return 0


def cmd_cycle_status(args: argparse.Namespace) -> int:
    status = CycleStatus.LOCKED if args.command == "lock" else CycleStatus.OPEN
    with session_scope() as session:
        cycle = get_cycle(programme_of(args), args.year, session=session, kind=args.kind)
        coordination.set_cycle_status(cycle, status, session=session, actor=args.by, now=now())
    print(f"Cycle {args.year} ({args.kind}) is now {status.value}")
    return 0


def cmd_reissue_link(args: argparse.Namespace) -> int:
    with session_scope() as session:
        request = _request(session, args)
        coordination.reissue_link(
            request, session=session, settings=get_settings(), actor=args.by, now=now()
        )
        cycle_id = request.cycle_id
    print(f"Revoked the old link of {args.agency} and emailed a new one")
    deliver_queued(cycle_id)
    return 0


def cmd_link(args: argparse.Namespace) -> int:
    with session_scope() as session:
        link, expires = link_for(_request(session, args), get_settings())
    until = f"{expires:%d/%m/%Y}" if expires else "the cycle is locked"
    print(f"{link}\n(valid until {until})")
    return 0


def cmd_revisions(args: argparse.Namespace) -> int:
    with session_scope() as session:
        cycle = get_cycle(programme_of(args), args.year, session=session, kind=args.kind)
        zone = ZoneInfo(cycle.programme.timezone)
        for request in cycle_requests(cycle, session=session):
            if args.agency and request.agency.code != args.agency:
                continue
            if not request.submissions:
                print(f"{request.agency.code}: no submission")
            for s in request.submissions:
                when = s.submitted_at.astimezone(zone).strftime("%d/%m/%Y %H:%M")
                print(
                    f"{request.agency.code} r{s.revision} {when} {s.channel} "
                    f"{'late' if s.is_late else 'on time'} {s.status}"
                    f"{f' ({s.status_reason})' if s.status_reason else ''} by {s.submitted_by}"
                )
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the intake and coordination commands on the `r42` parser."""
    p = sub.add_parser("portal", help="run the agencies' web form")
    p.set_defaults(handler=cmd_portal)

    def cycle_parser(name: str, text: str, handler, agency: str | None = None):  # type: ignore[no-untyped-def]
        p = sub.add_parser(name, help=text)
        p.add_argument("--year", type=int, required=name != "import-form")
        p.add_argument("--programme", help="programme code (default: the configured one)")
        if name != "import-form":  # the workbook says which round it belongs to
            add_kind_argument(p)
        p.add_argument("--by", default="ops", help="who acts (recorded in the audit trail)")
        if agency == "required":
            p.add_argument("--agency", required=True, help="agency code, e.g. so-y-te")
        elif agency == "optional":
            p.add_argument("--agency", help="agency code, e.g. so-y-te")
        p.set_defaults(handler=handler)
        return p

    p = cycle_parser(
        "import-form", "import a filled Excel form received otherwise", cmd_import_form, "optional"
    )
    p.add_argument("file", help="the .xlsx file (agency and cycle are read from it)")
    p.add_argument("--yes", action="store_true", help="store without asking for confirmation")
    p = cycle_parser(
        "send-back", "send an agency's report back with a reason", cmd_send_back, "required"
    )
    p.add_argument("--reason", required=True, help="what the agency must correct (Vietnamese)")
    cycle_parser("lock", "lock a cycle: no more revisions", cmd_cycle_status)
    cycle_parser("reopen", "reopen a locked cycle", cmd_cycle_status)
    cycle_parser(
        "reissue-link", "revoke an agency's link and email a new one", cmd_reissue_link, "required"
    )
    cycle_parser("link", "print an agency's current link", cmd_link, "required")
    cycle_parser(
        "revisions", "list every revision and who or what sent it", cmd_revisions, "optional"
    )
