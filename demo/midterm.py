"""`python -m demo midterm` (`make demo-midterm`): the 2025 mid-term review (sơ kết) on a
simulated clock, from the demo's data.

Imports the demo's invented 2024-2025 provincial values (demo/history.yaml), opens the round on
15/09/2025 with a deadline of 15/10/2025 (the registry of 01/07/2025 is in force), lets the
agencies answer the evaluation form as the yearly demo's agencies do (most on time, some late,
some never; one through the attached Excel form), runs the reminders on the ladder and the
consolidation after the deadline and again with the late reports (the review flow: open-cycle,
send-reminders and consolidate with kind=midterm), then submits the report as the yearly demo
does: the submission run waits for the coordinator, who approves it as 88/BC-UBND, and it is
sent to the ministry. Prints where the report is.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import threading
from collections import Counter
from pathlib import Path

DEMO_DIR = Path("data/demo-midterm")
YEAR, OPENED, DEADLINE = 2025, dt.date(2025, 9, 15), dt.date(2025, 10, 15)
NUMBER, SIGNER = "88/BC-UBND", "Trần Thị B"
PROGRAMME = "vinh-long-r42"
HISTORY = Path(__file__).parent / "history.yaml"
LESSONS = [
    "Phân công rõ người, rõ việc, rõ thời hạn; người đứng đầu trực tiếp chỉ đạo.",
    "Lồng ghép chỉ tiêu của Chương trình vào kế hoạch phát triển kinh tế - xã hội hằng năm.",
    "Huy động sự tham gia của Mặt trận Tổ quốc, các đoàn thể và người dân.",
]
CAUSES = [
    "Nguồn lực đầu tư còn hạn chế; việc sắp xếp bộ máy năm 2025 làm chậm một số nhiệm vụ.",
    "Số liệu một số chỉ tiêu chưa được thống kê đầy đủ theo năm, nhất là ở cấp xã.",
]


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.timezone(dt.timedelta(hours=7)))


def evaluation_for(agency, cycle, known):  # type: ignore[no-untyped-def]
    """A plausible evaluation: 2024 as stored, 2025 near it, a few words per task and overall."""
    from demo.agencies import PROPOSALS, _next_value, submission_for
    from reporting.evaluation_intake import EvaluationInput

    rng = random.Random(f"midterm-{agency.code}")
    yearly = submission_for(agency, cycle, known.get(YEAR - 1, {}))
    values = {}
    for indicator in agency.indicators:
        last = known.get(YEAR - 1, {}).get(indicator.code)
        earlier = {}
        if last is not None:
            earlier[YEAR - 1] = (
                ("có" if last.achieved else "không")
                if indicator.kind == "yes_no"
                else str(last.value).replace(".", ",")
            )
        values[indicator.code] = {**earlier, YEAR: _next_value(indicator.kind, last, rng)}
    return EvaluationInput(
        values=values,
        tasks=yearly.tasks,
        results=f"{agency.name} triển khai đầy đủ các nhiệm vụ được giao; "
        "phần lớn chỉ tiêu phụ trách đạt hoặc vượt kế hoạch năm.",
        shortfall_causes=rng.choice(CAUSES),
        lessons=rng.choice(LESSONS),
        proposals=yearly.adjustment_proposals or rng.choice(PROPOSALS),
    )


def fill_excel(content: bytes, data) -> bytes:  # type: ignore[no-untyped-def]
    """An agency that answers with the attached workbook: its answers typed into the cells."""
    import openpyxl

    from documents.labels import TASK_STATUS_TEXT
    from reporting.evaluation_excel import INDICATORS, NARRATIVE, TASKS
    from reporting.evaluation_intake import NARRATIVE_FIELDS

    wb = openpyxl.load_workbook(io.BytesIO(content))
    ws = wb[INDICATORS]
    header = [str(c.value) for c in ws[3]]
    for row in range(4, ws.max_row + 1):
        for year, value in data.values.get(ws.cell(row, 1).value, {}).items():
            ws.cell(row, header.index(str(year)) + 1, str(value))
    tasks = wb[TASKS]
    for row in range(4, tasks.max_row + 1):
        task = data.tasks.get(tasks.cell(row, 1).value)
        if task:
            tasks.cell(row, 4, TASK_STATUS_TEXT[task.status])
            tasks.cell(row, 5, task.results)
            tasks.cell(row, 6, task.difficulties)
    for row, name in enumerate(NARRATIVE_FIELDS, start=4):
        wb[NARRATIVE].cell(row, 2, getattr(data, name))
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def answer_day(day: dt.date, plan: dict[str, dt.date], by_excel: str) -> list[str]:
    """Record the evaluations the agencies send on ``day``."""
    import email
    from email.policy import default as policy

    from config.settings import get_settings
    from models.cycles import cycle_requests, get_cycle
    from models.database import session_scope
    from models.orm import Channel, CycleKind
    from reporting.evaluation_excel import import_evaluation_form
    from reporting.evaluation_intake import accept_evaluation, acknowledge_evaluation
    from reporting.evaluation_requests import known_series

    done = []
    settings = get_settings()
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, YEAR, session=session, kind=CycleKind.MIDTERM)
        known = known_series(cycle.programme, [YEAR - 1], session=session)
        for request in cycle_requests(cycle, session=session):
            code = request.agency.code
            if plan.get(code) != day:
                continue
            data = evaluation_for(request.agency, cycle, known)
            if code == by_excel:
                message = next(
                    m
                    for p in settings.mail.outbox_dir.glob("*-request-*.eml")
                    if request.agency.email
                    in str((m := email.message_from_bytes(p.read_bytes(), policy=policy))["To"])
                )
                form = next(message.iter_attachments()).get_content()
                submission = import_evaluation_form(
                    fill_excel(form, data),
                    request,
                    session=session,
                    channel=Channel.UPLOAD,
                    submitted_by=f"{request.agency.email} (demo, Excel)",
                    submitted_at=at(day, 10),
                )
                acknowledge_evaluation(
                    submission, session=session, settings=settings, now=at(day, 10)
                )
            else:
                accept_evaluation(
                    request,
                    data,
                    session=session,
                    settings=settings,
                    channel=Channel.DEMO,
                    submitted_by=f"{request.agency.email} (demo)",
                    now=at(day, 10),
                )
            done.append(code)
    return done


def main() -> int:
    from demo.run import configure

    configure(DEMO_DIR, replies_by_email=False)
    from config.registry_files import load_programme
    from config.settings import get_settings
    from demo.agencies import submission_day
    from demo.run import answer_when_waiting
    from flows.review import midterm_review_flow
    from flows.submit_report import submit_report_flow
    from mail.delivery import deliver_configured
    from models.cycles import get_cycle
    from models.database import session_scope, upgrade_database
    from models.orm import CycleKind
    from models.registry_store import load_registry
    from reporting.observation_import import import_observations

    upgrade_database()
    with session_scope() as session:
        load_registry(load_programme(PROGRAMME), session=session)
        import_observations(HISTORY, session=session)
    review = {"kind": "midterm", "year": YEAR}
    print(f"== {OPENED:%d/%m/%Y}: opening the {YEAR} mid-term review (sơ kết)")
    opened = midterm_review_flow(
        **review, step="open", opened_on=OPENED, deadline=DEADLINE, as_of=at(OPENED, 8)
    )["opened"]
    print(f"   {opened['agencies']} agencies asked, deadline {DEADLINE:%d/%m/%Y}")
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, YEAR, session=session, kind=CycleKind.MIDTERM)
        ladder = cycle.programme.reminder_ladder
        cycle_id = cycle.id
        plan = {
            r.agency.code: day for r in cycle.requests if (day := submission_day(r.agency, cycle))
        }
    by_excel = min(plan, key=lambda code: plan[code])
    last_day = DEADLINE + dt.timedelta(days=max(ladder) + 1)
    day = OPENED + dt.timedelta(days=1)
    while day <= last_day:
        due = (day - DEADLINE).days in ladder or day == DEADLINE + dt.timedelta(days=1)
        if due:
            run = midterm_review_flow(**review, on=day, as_of=at(day, 8))
            line = f"== {day:%d/%m/%Y}: {len(run['reminded'].get('queued', []))} reminded"
            if "report" in run:
                line += f"; draft report revision {run['report']['revision']}"
            print(line)
        answered = answer_day(day, plan, by_excel)
        if answered:
            deliver_configured(cycle_id, now=at(day, 11))  # the receipts
            print(f"   {day:%d/%m/%Y}: evaluations from {', '.join(answered)}")
        day += dt.timedelta(days=1)
    midterm_review_flow(**review, step="consolidate", on=last_day, as_of=at(last_day, 17))
    print(f"== {last_day:%d/%m/%Y}: submitting; the coordinator approves it as {NUMBER}")
    errors: list[Exception] = []
    coordinator = threading.Thread(
        target=answer_when_waiting, args=(YEAR, PROGRAMME, errors, "midterm", NUMBER, SIGNER)
    )
    coordinator.start()
    submit_report_flow(year=YEAR, kind="midterm", as_of=at(last_day, 18))
    coordinator.join()
    if errors:
        raise errors[0]
    return summarise(plan, by_excel, get_settings().mail.outbox_dir)


def summarise(plan: dict, by_excel: str, outbox: Path) -> int:
    """Print where the report is and what the round did; non-zero if something is missing."""
    from config.settings import get_settings
    from demo.run import report_files
    from documents.labels import Progress
    from models.cycles import get_cycle
    from models.database import session_scope
    from models.orm import CycleKind, MessageKind
    from models.reports import latest_report
    from reporting.report_files import cycle_folder

    kinds = Counter(
        next(k.value for k in MessageKind if f"-{k.value}-" in p.name) for p in outbox.glob("*.eml")
    )
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, YEAR, session=session, kind=CycleKind.MIDTERM)
        report = latest_report(cycle, session=session)
        revision, status, counts = report.revision, report.status, report.data["status_counts"]
        folder = cycle_folder(get_settings().cycle.reports_dir, cycle)
    print()
    print(f"Agencies that answered: {len(plan)} (one with the Excel form: {by_excel})")
    print(f"Outbox {outbox}/: {dict(kinds)}")
    print(f"Targets by status: { {Progress(s).text: n for s, n in counts.items()} }")
    print(f"Mid-term report, revision {revision} ({status}):")
    ok = report_files(folder, NUMBER, DEMO_DIR) and kinds["request"] > 0 and kinds["report"] == 1
    print(f"Database: {DEMO_DIR / 'r42.sqlite3'}")
    print("Mid-term demo finished." if ok else "Mid-term demo finished with missing documents.")
    return 0 if ok else 1
