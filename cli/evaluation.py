"""`r42` commands of the review rounds: run a review step by hand (the shared flows with the
review's kind; its report is approved with `r42 submit --kind midterm` and `r42 decide`)."""

from __future__ import annotations

import argparse
import datetime as dt

from cli.arguments import day_argument, moment_argument


def cmd_review(args: argparse.Namespace) -> int:
    from flows.review import final_review_flow, midterm_review_flow

    review = midterm_review_flow if args.command == "midterm-review" else final_review_flow
    result = review(
        kind="midterm" if args.command == "midterm-review" else "final",
        year=args.year or (2025 if args.command == "midterm-review" else 2030),
        step=args.step,
        programme=args.programme,
        opened_on=args.opened_on,
        deadline=args.deadline,
        on=args.on,
        as_of=args.as_of,
    )
    print(result)  # the report's files: under R42_CYCLE__REPORTS_DIR/<programme>/<year>-<kind>/
    return 0


def cmd_import_evaluation(args: argparse.Namespace) -> int:
    from pathlib import Path

    from config.settings import get_settings
    from models.cycles import get_request
    from models.database import session_scope
    from models.orm import Channel
    from reporting.evaluation_excel import import_evaluation_form, read_evaluation_form
    from reporting.evaluation_intake import acknowledge_evaluation

    data = Path(args.file).read_bytes()
    meta = read_evaluation_form(data).meta  # which round and agency the workbook is for
    now = dt.datetime.now(dt.UTC)
    with session_scope() as session:
        agency = args.agency or meta["agency"]  # named by ops, or read from the file
        request = get_request(
            meta["programme"], int(meta["year"]), agency, session=session, kind=meta["kind"]
        )
        submission = import_evaluation_form(
            data,
            request,
            session=session,
            channel=Channel.OPS_IMPORT,
            submitted_by=f"{args.by} (import of {Path(args.file).name})",
            submitted_at=now,
            require_token=args.agency is None,  # the file alone said whose it is: signed only
        )
        acknowledge_evaluation(submission, session=session, settings=get_settings(), now=now)
        print(
            f"{request.agency.name}: {meta['kind']} {meta['year']} revision {submission.revision}"
            + (" (late)" if submission.is_late else "")
            + (": identical to it, nothing new stored" if submission.unchanged else "")
        )
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    for name, text, year in [
        ("midterm-review", "the mid-term review (sơ kết): open, remind or consolidate", 2025),
        ("final-review", "the final review (tổng kết): open, remind or consolidate", 2030),
    ]:
        p = sub.add_parser(name, help=text)
        p.add_argument("--year", type=int, help=f"the review's year (default {year})")
        p.add_argument(
            "--step",
            choices=["auto", "open", "remind", "consolidate"],
            default="auto",
            help="what to do (default: what is due on the day)",
        )
        p.add_argument("--programme", help="programme code (default: the configured one)")
        p.add_argument("--opened-on", type=day_argument, help="opening day (default: today)")
        p.add_argument("--deadline", type=day_argument, help="the round's deadline (default: 05/12 rule)")
        p.add_argument("--on", type=day_argument, help="day to act for (default: today)")
        p.add_argument("--as-of", type=moment_argument, help="simulated 'now', with its UTC offset")
        p.set_defaults(handler=cmd_review)
    p = sub.add_parser("import-evaluation-form", help="import a filled evaluation workbook")
    p.add_argument("file", help="the .xlsx an agency sent back (round and agency read from it)")
    p.add_argument("--by", default="ops", help="who imports it (recorded with the revision)")
    p.add_argument(
        "--agency", help="agency code, for a form made before forms were signed (else refused)"
    )
    p.set_defaults(handler=cmd_import_evaluation)
