"""Run the 2026 cycle end to end on a simulated clock, on the embedded default set-up."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import shutil
import threading
import time
from collections import Counter
from pathlib import Path

DEMO_DIR = Path("data/demo")
YEAR = 2026
HISTORY = Path(__file__).parent / "history.yaml"


def configure(folder: Path = DEMO_DIR, *, replies_by_email: bool = True) -> None:
    """Point the settings at a fresh demo folder (never at the configured database); the
    mid-term review's demo has a folder of its own and no mailbox."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["R42_DATABASE__URL"] = f"sqlite:///{folder / 'r42.sqlite3'}"
    os.environ["R42_MAIL__TRANSPORT"] = "outbox"
    os.environ["R42_MAIL__ALLOWED_DOMAINS"] = ".example"  # never a real mailbox
    os.environ["R42_MAIL__OUTBOX_DIR"] = str(folder / "outbox")
    os.environ["R42_CYCLE__REPORTS_DIR"] = str(folder / "reports")
    if replies_by_email:
        # Replies by email are read (the emails invite them); the mailbox is a folder,
        # demo/replies.py
        os.environ["R42_INBOX__HOST"] = "mailbox.demo.example"
    # The approved report is signed with a certificate made here, whose subject says it is a
    # demo (documents/certificates.py); its CA is kept beside it for `r42 verify-report --trust`.
    from documents.certificates import demo_signing_files

    p12, _ = demo_signing_files(folder / "signing", password="demo")
    os.environ["R42_SIGNING__PKCS12_FILE"] = str(p12)
    os.environ["R42_SIGNING__PKCS12_PASSWORD"] = "demo"
    from config.settings import get_settings
    from models.database import reset_engines

    get_settings.cache_clear()
    reset_engines()


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.timezone(dt.timedelta(hours=7)))


def answer_when_waiting(
    year: int,
    programme: str,
    errors: list[Exception],
    kind: str = "annual",
    number: str = "215/BC-UBND",
    signer: str = "Nguyễn Văn A",
) -> None:
    """The demo's coordinator: approve as soon as the submission run waits for a decision."""
    from flows.approval import CoordinatorDecision, answer, find_waiting_runs

    try:
        for _ in range(600):
            if find_waiting_runs(year, programme, kind):
                answer(
                    year,
                    programme,
                    CoordinatorDecision(
                        decision="approve",
                        report_number=number,
                        signer=signer,
                        decided_by="demo coordinator",
                    ),
                    kind,
                )
                return
            time.sleep(0.5)
        raise TimeoutError("the submission run never waited for a decision")
    except Exception as exc:  # reported by the main thread
        errors.append(exc)


def record_day(
    day: dt.date, plan: dict[str, list[dt.date]], by_email: dict[str, bool]
) -> list[str]:
    """Record the submissions the agencies make on ``day`` (not those that reply by email)."""
    from demo.agencies import submission_for
    from models.cycles import cycle_requests, get_cycle
    from models.database import session_scope
    from models.observations import observations_for
    from models.orm import Channel
    from reporting.intake import record_submission

    done = []
    with session_scope() as session:
        cycle = get_cycle("vinh-long-r42", YEAR, session=session)
        last_year = observations_for(cycle.programme, YEAR - 1, session=session)
        for request in cycle_requests(cycle, session=session):
            days = [] if request.agency.code in by_email else plan.get(request.agency.code, [])
            for revision, when in enumerate(days, start=1):
                if when == day:
                    record_submission(
                        request,
                        submission_for(request.agency, cycle, last_year, revision),
                        session=session,
                        channel=Channel.DEMO,
                        submitted_by=f"{request.agency.email} (demo)",
                        submitted_at=at(day, 10),
                    )
                    done.append(request.agency.code)
    return done


def email_day(day: dt.date, by_email: dict[str, bool], plan: dict[str, list[dt.date]]) -> None:
    """The agencies replying by email on ``day`` do so; the replies are read and answered."""
    from config.settings import get_settings
    from demo.agencies import submission_for
    from demo.replies import FolderMailbox, send_replies
    from mail.delivery import deliver_configured
    from models.cycles import get_cycle
    from models.database import session_scope
    from models.observations import observations_for
    from reporting.replies import read_replies

    sending = {}
    for code, mistake in by_email.items():
        if day == plan[code][0]:
            sending[code] = mistake  # the first reply, with its mistake if it makes one
        elif mistake and day == plan[code][0] + dt.timedelta(days=1):
            sending[code] = False  # corrected the day after the answer listed the error
    if not sending:
        return
    settings = get_settings()
    mailbox = FolderMailbox(DEMO_DIR / "mailbox")
    with session_scope() as session:
        cycle = get_cycle("vinh-long-r42", YEAR, session=session)
        last_year = observations_for(cycle.programme, YEAR - 1, session=session)
        data = {
            r.agency.code: submission_for(r.agency, cycle, last_year)
            for r in cycle.requests
            if r.agency.code in sending
        }
        send_replies(mailbox, settings.mail.outbox_dir, cycle, sending, data, at(day, 10))
        cycle_id = cycle.id
    for outcome in read_replies(mailbox, settings=settings, now=at(day, 11)):
        print(
            f"   {day:%d/%m/%Y}: reply by email from {outcome.agency}: {outcome.status}"
            + (f" ({outcome.problems[0]})" if outcome.problems else "")
        )
    deliver_configured(cycle_id, now=at(day, 11))


def main() -> int:
    configure()
    from config.registry_files import load_programme
    from config.settings import get_settings
    from demo.agencies import submission_day
    from demo.more_time import more_time
    from flows.consolidate import consolidate_flow
    from flows.open_cycle import open_cycle_flow
    from flows.send_reminders import send_reminders_flow
    from flows.submit_report import submit_report_flow
    from models.cycles import get_cycle
    from models.database import session_scope, upgrade_database
    from models.registry_store import load_registry
    from reporting.observation_import import import_observations

    programme = "vinh-long-r42"
    upgrade_database()
    with session_scope() as session:
        load_registry(load_programme(programme), session=session)
        import_observations(HISTORY, session=session)
    opened = dt.date(YEAR, 11, 2)
    print(f"== {opened:%d/%m/%Y}: opening the {YEAR} cycle")
    print("  ", open_cycle_flow(year=YEAR, opened_on=opened, as_of=at(opened, 8)))

    with session_scope() as session:
        cycle = get_cycle(programme, YEAR, session=session)
        deadline, ladder = cycle.deadline, cycle.programme.reminder_ladder
        plan: dict[str, list[dt.date]] = {}
        for request in cycle.requests:
            first = submission_day(request.agency, cycle)
            if first:
                plan[request.agency.code] = [first]
        correcting = sorted(plan, key=lambda code: plan[code][0])[0]
        plan[correcting].append(plan[correcting][0] + dt.timedelta(days=2))
        # two reply to the request by email: one at once, one with a mistake it then corrects
        early = sorted((c for c in plan if c != correcting), key=lambda c: plan[c][0])
        by_email = {early[0]: False, early[1]: True}
        # One agency that would be late asks for more time, until the day it will report.
        latest = deadline + dt.timedelta(days=cycle.programme.extension_max_days)
        late = [c for c in plan if deadline < plan[c][0] <= latest and c != correcting]
        extended = sorted(late, key=lambda code: (plan[code][0], code))[0] if late else None
    print(
        f"   deadline {deadline:%d/%m/%Y}; reminder days "
        + ", ".join(f"{deadline + dt.timedelta(days=o):%d/%m}" for o in ladder)
    )

    last_day = deadline + dt.timedelta(days=max(ladder) + 1)
    day = opened + dt.timedelta(days=1)
    while day <= last_day:
        if (day - deadline).days in ladder:
            run = send_reminders_flow(year=YEAR, on=day, as_of=at(day, 8))
            print(
                f"== {day:%d/%m/%Y}: reminder D{run['rung']:+d} to {len(run['queued'])} agencies "
                f"({len(run['submitted'])} had reported)"
            )
        if extended and day == deadline - dt.timedelta(days=3):
            asked = more_time(
                extended, plan[extended][0], year=YEAR, asked_at=at(day, 9), decided_at=at(day, 15)
            )
            print(f"   {day:%d/%m/%Y}: {asked}")
        submitted = record_day(day, plan, by_email)
        email_day(day, by_email, plan)
        if submitted:
            print(f"   {day:%d/%m/%Y}: reports from {', '.join(submitted)}")
        if day == deadline + dt.timedelta(days=1):
            print(
                f"== {day:%d/%m/%Y}: consolidation after the deadline",
                consolidate_flow(year=YEAR, as_of=at(day, 17)),
            )
        day += dt.timedelta(days=1)
    print(
        f"== {last_day:%d/%m/%Y}: consolidation with the late reports",
        consolidate_flow(year=YEAR, as_of=at(last_day, 17)),
    )

    submit_day = last_day + dt.timedelta(days=1)
    print(f"== {submit_day:%d/%m/%Y}: submission to the ministry, waiting for the coordinator")
    errors: list[Exception] = []
    coordinator = threading.Thread(target=answer_when_waiting, args=(YEAR, programme, errors))
    coordinator.start()
    result = submit_report_flow(year=YEAR, as_of=at(submit_day, 9))
    coordinator.join()
    if errors:
        raise errors[0]
    print("  ", {k: result[k] for k in ("revision", "status")})
    return summarise(Path(get_settings().mail.outbox_dir), plan)


def summarise(outbox: Path, plan: dict[str, list[dt.date]]) -> int:
    """Print where everything is, and check the outbox holds what it should."""
    from config.settings import get_settings
    from models.cycles import get_cycle
    from models.database import session_scope
    from models.reports import latest_report
    from reporting.report_files import cycle_folder

    kinds: Counter[str] = Counter()
    for path in sorted(outbox.glob("*.eml")):
        # <programme>-<year>-<cycle kind>-<message kind>-<recipient>[-<rung>].eml
        kinds[path.name.removeprefix(f"vinh-long-r42-{YEAR}-annual-").split("-")[0]] += 1
    with session_scope() as session:
        cycle = get_cycle("vinh-long-r42", YEAR, session=session)
        report = latest_report(cycle, session=session)
        agencies = len(cycle.requests)
        (DEMO_DIR / f"report-{YEAR}.md").write_text(report.markdown, encoding="utf-8")
        (DEMO_DIR / f"report-{YEAR}.html").write_text(report.html, encoding="utf-8")
        cycle_dir = cycle_folder(get_settings().cycle.reports_dir, cycle)
    sample = next(outbox.glob("*-request-*.eml"))
    message = email.message_from_bytes(sample.read_bytes(), policy=email.policy.default)
    print()
    print(
        f"Agencies asked: {agencies}; reported: {len(plan)}; never reported: {agencies - len(plan)}"
    )
    print(f"Outbox {outbox}/: {dict(kinds)}")
    print(f"  e.g. {sample.name}: {message['Subject']}")
    print(f"Report {report.number} ({report.status}): {DEMO_DIR / f'report-{YEAR}.md'} and .html")
    print(f"Database: {DEMO_DIR / 'r42.sqlite3'}")
    mailbox = {p.name: len(list(p.glob("*.eml"))) for p in sorted((DEMO_DIR / "mailbox").glob("*"))}
    print(f"Replies by email (a folder for the IMAP mailbox) {DEMO_DIR / 'mailbox'}/: {mailbox}")
    print("Prefect UI on these runs: `make ui`, then open http://127.0.0.1:4200/runs")
    ok = kinds["request"] == agencies and kinds["report"] == 1 and kinds["extension"] == 1
    ok = report_files(cycle_dir, report.number) and ok
    print("Demo finished." if ok else "Demo finished with unexpected outbox contents.")
    return 0 if ok else 1


def report_files(folder: Path, number: str, demo_dir: Path = DEMO_DIR) -> bool:
    """Print where the report's signed PDF, DOCX, XLSX annex and HTML are (signed with the
    certificate made in ``demo_dir``); True when the approved ones exist."""
    final = sorted(folder.glob(f"*-{number.replace('/', '-')}.*"))
    drafts = sorted(folder.glob("*-du-thao-*.docx"))
    print("Report files (signed PDF, Decree 30 DOCX, XLSX annex, HTML with charts):")
    for path in final:
        print(f"  {path.suffix[1:].upper()}: {path} ({path.stat().st_size:,} bytes)")
    print(f"  drafts: {', '.join(p.name for p in drafts) or 'none'} in {folder}/")
    pdf = next((p for p in final if p.suffix == ".pdf"), None)
    if pdf is not None:
        ca = demo_dir / "signing" / "demo-ca.pem"
        print(f"  signed with a demo certificate: `pdfsig {pdf}` or `r42 verify-report {pdf}`")
        print(f"  (its demo CA, to trust it: --trust {ca})")
    return {p.suffix for p in final} >= {".pdf", ".docx", ".xlsx"}
