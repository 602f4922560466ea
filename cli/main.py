"""`r42`: the command line ops use to load data, run flows by hand and answer approvals."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from sqlalchemy.exc import OperationalError

from cli.arguments import add_kind_argument, day_argument, moment_argument, programme_of
from cli.check_command import add_commands as add_check_commands
from cli.coordinator import add_commands as add_coordinator_commands
from cli.delivery import add_commands as add_delivery_commands
from cli.errors import allow_slow_prefect_start, database_unreachable, explain
from cli.evaluation import add_commands as add_evaluation_commands
from cli.extensions import add_commands as add_extension_commands
from cli.replies import add_commands as add_replies_commands
from cli.signing import add_commands as add_signing_commands
from config.registry import RegistryError
from config.registry_files import load_programme
from config.settings import get_settings


def cmd_load_registry(args: argparse.Namespace) -> int:
    from models.database import session_scope, upgrade_database
    from models.registry_store import load_registry

    upgrade_database()
    registry = load_programme(programme_of(args))
    with session_scope() as session:
        summary = load_registry(registry, session=session)
    print(
        f"{summary.programme}: created {summary.created or 'nothing'}; "
        f"updated {summary.updated or 'nothing'}; unchanged {summary.unchanged or 'nothing'}"
    )
    return 0


def cmd_import_observations(args: argparse.Namespace) -> int:
    from models.database import session_scope
    from reporting.observation_import import import_observations

    with session_scope() as session:
        changed = import_observations(Path(args.file), session=session)
    for year, count in sorted(changed.items()):
        print(f"{year}: {count} values stored or changed")
    return 0


class TerminalProgress:
    """A progress bar on stderr for ops running a flow by hand; plain lines when not a terminal."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = self.stream.isatty()
        self.shown: dict[str, int] = {}

    def __call__(self, what: str, done: int, total: int) -> None:
        percent = 100 if total <= 0 else 100 * min(done, total) // total
        step = percent if self.tty else percent // 10 * 10  # a line every 10 % in a log
        if self.shown.get(what) == step and done < total:
            return
        if self.tty:
            bar = "#" * (self.width * percent // 100)
            end = "\n" if done >= total else ""
            self.stream.write(f"\r{what} [{bar:<{self.width}}] {percent:3d}% ({done}/{total}){end}")
        elif self.shown.get(what) != step:
            self.stream.write(f"{what}: {percent}% ({done}/{total})\n")
        self.stream.flush()
        self.shown[what] = step


def cmd_flow(args: argparse.Namespace) -> int:
    from flows.common import add_progress_listener
    from flows.consolidate import consolidate_flow
    from flows.open_cycle import open_cycle_flow
    from flows.send_reminders import send_reminders_flow
    from flows.submit_report import submit_report_flow

    common = {
        "year": args.year, "programme": args.programme, "as_of": args.as_of, "kind": args.kind
    }
    remove = add_progress_listener(TerminalProgress())
    try:
        if args.command == "open-cycle":
            result = open_cycle_flow(**common, opened_on=args.opened_on, deadline=args.deadline)
        elif args.command == "remind":
            result = send_reminders_flow(**common, on=args.on)
        elif args.command == "consolidate":
            result = consolidate_flow(**common)
        else:
            result = submit_report_flow(**common)
    finally:
        remove()
    print(result)
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    from flows.approval import CoordinatorDecision, answer

    decision = CoordinatorDecision(
        decision="approve" if args.decision == "approve" else "send_back",
        report_number=args.number,
        signer=args.signer,
        reason=args.reason,
        decided_by=args.by,
    )
    run_id = answer(args.year, programme_of(args), decision, args.kind)
    print(f"Resumed flow run {run_id} with decision {decision.decision}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="r42", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("load-registry", help="migrate the database and load the programme registry")
    p.add_argument("--programme", help="programme code (default: the configured one)")
    p.set_defaults(handler=cmd_load_registry)

    p = sub.add_parser("import-observations", help="import provincial values of past years")
    p.add_argument("file", help="YAML file: programme, years: {2024: {indicator: value}}")
    p.set_defaults(handler=cmd_import_observations)

    for name, text in [
        ("open-cycle", "open the year's cycle (or a review: --kind) and email the requests"),
        ("remind", "send the reminder due today (or --on)"),
        ("consolidate", "consolidate the year's reports (or a review's) into a draft"),
        ("submit", "wait for approval and send the report to the ministry"),
    ]:
        p = sub.add_parser(name, help=text)
        p.add_argument("--year", type=int, required=True)
        p.add_argument("--programme", help="programme code (default: the configured one)")
        p.add_argument("--as-of", type=moment_argument, help="simulated 'now', with its UTC offset")
        add_kind_argument(p)
        if name == "open-cycle":
            p.add_argument("--opened-on", type=day_argument, help="opening day (default: today)")
            p.add_argument(
                "--deadline", type=day_argument, help="last day (default: the yearly rule)"
            )
        if name == "remind":
            p.add_argument("--on", type=day_argument, help="day to remind for (default: today)")
        p.set_defaults(handler=cmd_flow)

    p = sub.add_parser("decide", help="answer the waiting submission run of a year")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--programme", help="programme code (default: the configured one)")
    p.add_argument("--by", default="ops", help="who decides (recorded in the audit trail)")
    add_kind_argument(p)
    p.add_argument("decision", choices=["approve", "send-back"])
    p.add_argument("--number", help="report number when approving, e.g. 12/BC-UBND")
    p.add_argument("--signer", help="signer's full name when approving")
    p.add_argument("--reason", help="reason when sending back")
    p.set_defaults(handler=cmd_decide)

    add_coordinator_commands(sub)
    add_extension_commands(sub)
    add_check_commands(sub)
    add_delivery_commands(sub)
    add_replies_commands(sub)

    add_evaluation_commands(sub)
    add_signing_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    allow_slow_prefect_start()
    try:
        if args.command != "check":
            get_settings()  # unsafe settings (a placeholder secret...) refused before anything runs
        return args.handler(args)
    except (RegistryError, LookupError, ValueError, RuntimeError) as exc:
        print(f"r42 {args.command}: {explain(str(exc))}", file=sys.stderr)
        return 2
    except OperationalError as exc:  # e.g. PostgreSQL down: one line, not 260 of traceback
        message = database_unreachable(exc, get_settings().database.url)
        print(f"r42 {args.command}: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
