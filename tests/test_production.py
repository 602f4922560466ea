"""The demo cycle end to end on the production path, with real processes.

`ops.production.up` starts, once for this module: PostgreSQL (Prefect's and the application's
databases), `prefect server start`, `prefect deploy --all` on the process work pool, two
`prefect worker start` processes (one flow run at a time each) and `r42 portal`. Mail goes to a
real SMTP server in this process. Flows run only as deployment runs picked up by the workers;
agencies submit over HTTP; the coordinator answers with `r42 decide`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from prefect.artifacts import Artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import StateType
from prefect.deployments import run_deployment
from prefect.events.worker import EventsWorker
from prefect.flow_runs import resume_flow_run
from prefect.logging.handlers import APILogWorker
from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings
from prefect.states import Cancelling
from sqlalchemy import create_engine, select, text

from config.mail_settings import MailSettings
from documents.vietnamese import format_number
from models.cycles import cycle_requests, get_cycle
from models.database import session_scope
from models.observations import observations_for
from models.orm import OutgoingMessage, Submission
from ops.processes import descendants
from ops.production import BIN, Layout, down, run, stop_workers, up
from tests.servers import SmtpServer, free_port

PROGRAMME = "vinh-long-r42"
ICT = dt.timezone(dt.timedelta(hours=7))
pytestmark = pytest.mark.postgres
# Seconds the SMTP server takes per message in the tests that stop a run mid-sending: with 8
# connections, 23 requests take about 6 s, time enough to be stopped on a loaded machine (at
# 0.4 s a run under load finished before the SIGTERM reached it).
SLOW_RELAY = 2.0


def at(day: str, hour: int) -> str:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), ICT).isoformat()


@pytest.fixture(scope="module")
def stack():
    """The whole production set-up, up for the module and taken down after it."""
    state = Path(tempfile.mkdtemp(prefix="r42-prod-"))
    state.chmod(0o755)  # the postgres user keeps its cluster inside
    with SmtpServer() as smtp:
        layout = Layout(
            state=state,
            pg_port=free_port(),
            api_port=free_port(),
            portal_port=free_port(),
            workers=2,
            worker_limit=1,
            heartbeat_seconds=30,  # Prefect's shortest: a silent run is Crashed after 90 s
            extra_env={
                "R42_MAIL__TRANSPORT": "smtp",
                "R42_MAIL__SMTP_HOST": "127.0.0.1",
                "R42_MAIL__SMTP_PORT": str(smtp.port),
                "R42_MAIL__SMTP_TIMEOUT": "10",
                "R42_WEB_FORM__LINK_VALID_DAYS": "3650",
                "R42_MAIL__CLAIM_LEASE_SECONDS": "20",  # a dead run's claims free after 20 s
                "PREFECT_WORKER_QUERY_SECONDS": "1",
                "PREFECT_LOGGING_LEVEL": "INFO",
            },
        )
        try:
            up(layout)
            run(layout, [str(BIN / "r42"), "import-observations", "demo/history.yaml"])
            # The real schedules stay out of the simulated cycle, whatever today's date is.
            run(layout, [str(BIN / "prefect"), "deployment", "schedule", "pause", "--all"])
            login = layout.env()["PREFECT_API_AUTH_STRING"]  # the server refuses calls without
            api = {PREFECT_API_URL: layout.api_url, PREFECT_API_AUTH_STRING: login}
            with temporary_settings(api):
                try:
                    assert scheduled_runs() == []
                    yield layout, smtp
                finally:
                    flush_prefect_services()
        finally:
            down(layout)
            shutil.rmtree(state, ignore_errors=True)


def flush_prefect_services() -> None:
    """Send this process's queued events and logs to the set-up's server while it is up, and
    stop the services that send them. Prefect keeps one events service per client type, not per
    API address: left running, it would send every later test's events (on this pytest worker)
    to this server once it is down, each failing after a timeout, and the session's Prefect
    harness would then wait minutes for them at its end."""
    EventsWorker.drain_all(timeout=30)
    APILogWorker.drain_all(timeout=30)


def scheduled_runs() -> list:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
            )
        )


@pytest.fixture(scope="module")
def app_db(stack):
    """This process reads the application database of the set-up (to check, never to act)."""
    layout, _ = stack
    url = layout.env()["R42_DATABASE__URL"]
    yield url


def deployment_run(name: str, **parameters) -> object:
    """Run a deployment as ops would and wait for a worker to finish it."""
    flow_run = run_deployment(name, parameters=parameters, timeout=240, poll_interval=1)
    assert flow_run.state.is_completed(), (name, flow_run.state)
    return flow_run


def wait_for_state(flow_run_id, done, seconds: float = 240):
    with get_client(sync_client=True) as client:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            flow_run = client.read_flow_run(flow_run_id)
            if done(flow_run.state):
                return flow_run
            time.sleep(0.5)
    raise TimeoutError(f"flow run {flow_run_id} is still {flow_run.state.name}")


def messages(url: str) -> dict[str, tuple[str, str, int]]:
    """Message-ID -> (kind, recipient, rung) of every message the set-up queued."""
    with session_scope(url) as session:
        rows = session.execute(
            select(
                OutgoingMessage.message_id,
                OutgoingMessage.kind,
                OutgoingMessage.recipient_key,
                OutgoingMessage.rung,
            )
        )
        return {mid.strip("<>"): (kind, key, rung) for mid, kind, key, rung in rows}


def received(smtp: SmtpServer, url: str) -> Counter:
    """(kind, recipient, rung) -> how many times the SMTP server received it."""
    known = messages(url)
    return Counter(known[r.message["Message-ID"].strip("<>")] for r in smtp.received)


def worker_of(layout: Layout, flow_run_id) -> list[str]:
    return [
        log.stem
        for log in sorted((layout.state / "logs").glob("r42-worker-*.log"))
        if str(flow_run_id) in log.read_text(errors="replace")
    ]


def remind_twice_at_once(url: str, day: str) -> list:
    """Two runs of the reminder deployment for the same day, made to race.

    This process locks the outbox table (plain reads still pass) until both runs wait on the
    lock, so both are at the same step at once, then lets them go together.
    """
    engine = create_engine(url)
    params = {"year": 2026, "on": day, "as_of": at(day, 8)}
    try:
        with engine.connect() as hold, engine.connect() as watch:
            hold.execute(text("LOCK TABLE outgoing_message IN EXCLUSIVE MODE"))
            runs = [
                run_deployment("send-reminders/send-reminders", parameters=params, timeout=0)
                for _ in range(2)
            ]
            deadline = time.monotonic() + 180
            while watch.scalar(BLOCKED) < 2:
                assert time.monotonic() < deadline, "the two reminder runs never met"
                watch.rollback()  # statistics views are a snapshot per transaction
                time.sleep(0.2)
            hold.rollback()
    finally:
        engine.dispose()
    return [wait_for_state(r.id, lambda s: s.is_final()) for r in runs]


BLOCKED = text(
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


def plausible_value(indicator, last) -> str:  # type: ignore[no-untyped-def]
    """A value the web form stores without asking the clerk to confirm it: last year's, else
    the middle of the indicator's plausible range (reporting.plausibility)."""
    if indicator.kind == "yes_no":
        return "có"
    if last is not None and last.value is not None:
        return format_number(last.value)
    if indicator.plausible_min is not None and indicator.plausible_max is not None:
        middle = (indicator.plausible_min + indicator.plausible_max) / 2
        return format_number(round(middle) if indicator.kind == "count" else middle)
    return "12" if indicator.kind == "count" else "50,5"


def form_for(url: str, agency: str, csrf: str, valid: bool, variant: int) -> dict[str, str]:
    """The form as an agency fills it; each ``variant`` differs (an unchanged one stores
    nothing)."""
    with session_scope(url) as session:
        cycle = get_cycle(PROGRAMME, 2026, session=session)
        request = next(r for r in cycle_requests(cycle, session=session) if r.agency.code == agency)
        last_year = observations_for(cycle.programme, 2025, session=session)
        form = {"csrf_token": csrf, "action": "submit"}
        for i in request.agency.indicators:
            form[f"value__{i.code}"] = plausible_value(i, last_year.get(i.code)) if valid else "abc"
        for g in request.agency.task_groups:
            form[f"status__{g.code}"] = "done"
            done = f"Đã thực hiện nhóm {g.number} (bản {variant + 1})."
            form[f"results__{g.code}"] = done if valid else ""
        return form


def post_all_at_once(posts: list[tuple[str, str, str]], url: str) -> list[httpx.Response]:
    """Each (agency, link, valid) is one browser: GET the form, then all POST together."""
    clients, forms = [], []
    for agency, link, valid in posts:
        client = httpx.Client(timeout=120)
        page = client.get(link)
        assert page.status_code == 200, page.text[:500]
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        clients.append(client)
        forms.append(form_for(url, agency, csrf, valid, len(forms)))
    barrier, responses = threading.Barrier(len(posts)), [None] * len(posts)

    def post(index: int) -> None:
        barrier.wait(60)
        responses[index] = clients[index].post(posts[index][1], data=forms[index])

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(posts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    for client in clients:
        client.close()
    return responses


def test_the_demo_cycle_runs_end_to_end_on_server_postgresql_two_workers_and_portal(stack, app_db):
    layout, smtp = stack

    # 02/11: the scheduled opening, run as a deployment by a worker.
    deployment_run(
        "open-cycle/open-cycle", year=2026, opened_on="2026-11-02", as_of=at("2026-11-02", 8)
    )
    known, links = messages(app_db), {}
    for r in smtp.received:
        kind, agency, _ = known[r.message["Message-ID"].strip("<>")]
        assert kind == "request"
        text = r.message.get_body(("plain",)).get_content()
        links[agency] = re.search(re.escape(layout.portal_url) + r"/bao-cao/\S+", text).group(0)
    agencies = sorted(links)
    assert len(agencies) == 23

    # 20/11 (D-14): two workers run the reminder deployment for the same day at the same moment.
    first, second = remind_twice_at_once(app_db, "2026-11-20")
    assert first.state.is_completed() and second.state.is_completed()
    assert {*worker_of(layout, first.id), *worker_of(layout, second.id)} == {
        "r42-worker-1",
        "r42-worker-2",
    }
    counts = received(smtp, app_db)
    d14 = {key: n for key, n in counts.items() if key[0] == "reminder" and key[2] == -14}
    assert sorted(key[1] for key in d14) == agencies and set(d14.values()) == {1}

    # Agencies report through the web form: 50 posts at once, every agency at least twice,
    # and two invalid ones that must be refused field by field with nothing stored.
    reporting = agencies[:19]
    posts = [(a, links[a], True) for a in reporting for _ in range(3 if a in reporting[:12] else 2)]
    invalid = [(a, links[a], False) for a in reporting[:2]]
    responses = post_all_at_once(posts + invalid, app_db)
    assert len(posts) == 50
    assert [r.status_code for r in responses[:50]] == [303] * 50, [
        r.text[:300] for r in responses if r.status_code != 303
    ]
    assert [r.status_code for r in responses[50:]] == [422, 422]
    assert "Báo cáo chưa được gửi" in responses[50].text
    with session_scope(app_db) as session:
        stored = Counter(
            (s.request.agency.code, s.revision) for s in session.scalars(select(Submission))
        )
    expected = Counter(posts)
    for agency in reporting:
        assert sorted(rev for (a, rev) in stored if a == agency) == list(
            range(1, expected[(agency, links[agency], True)] + 1)
        )
    assert sum(stored.values()) == 50

    # 01/12 (D-3): only the four agencies that never reported are reminded.
    deployment_run(
        "send-reminders/send-reminders", year=2026, on="2026-12-01", as_of=at("2026-12-01", 8)
    )
    counts = received(smtp, app_db)
    d3 = sorted(key[1] for key in counts if key[0] == "reminder" and key[2] == -3)
    assert d3 == agencies[19:]
    deadline = time.monotonic() + 60  # receipts go out after each response, from the portal
    while sum(n for key, n in received(smtp, app_db).items() if key[0] == "receipt") < 50:
        assert time.monotonic() < deadline, "the receipts were not all delivered"
        time.sleep(1)

    # 05/12: consolidation after the deadline.
    deployment_run("consolidate/consolidate", year=2026, as_of=at("2026-12-05", 17))

    # 12/12: submission to the ministry suspends (no process held) until the coordinator answers.
    submission = run_deployment(
        "submit-to-ministry/submit-to-ministry",
        parameters={"year": 2026, "as_of": at("2026-12-12", 9)},
        timeout=0,
    )
    waiting = wait_for_state(submission.id, lambda s: s.is_paused())
    assert waiting.state.name == "Suspended"
    assert not any(key[0] == "report" for key in received(smtp, app_db))

    # A second submission run of the cycle ends at once, naming the one that waits.
    second = deployment_run(
        "submit-to-ministry/submit-to-ministry", year=2026, as_of=at("2026-12-12", 10)
    )
    assert second.state.name == f"Already waiting in {waiting.name}"
    # The Resume dialog's answer without a signer is refused by the server; the run waits on.
    with pytest.raises(RuntimeError, match="Cannot resume"):
        resume_flow_run(
            submission.id, run_input={"choice": {"decision": "approve", "report_number": "2/BC"}}
        )
    assert wait_for_state(submission.id, lambda s: s.is_paused()).state.name == "Suspended"

    answer = run(
        layout,
        [
            str(BIN / "r42"),
            "decide",
            "--year",
            "2026",
            "approve",
            "--number",
            "215/BC-UBND",
            "--signer",
            "Nguyễn Văn A",
        ],
    )
    assert str(submission.id) in answer
    done = wait_for_state(submission.id, lambda s: s.is_final())
    assert done.state.is_completed(), done.state
    assert done.state.name == "Approved 215/BC-UBND"

    reports = [r for r in smtp.received if "215/BC-UBND" in r.message["Subject"]]
    assert len(reports) == 1
    counts = received(smtp, app_db)
    assert [n for key, n in counts.items() if key[0] == "report"] == [1]
    assert max(counts.values()) == 1  # no message of the whole cycle went out twice
    # The run's result sits on the shared storage, readable by any client of the server.
    assert done.state.result()["status"] == "submitted"
    assert any(layout.results.iterdir())
    # The report files are on the shared storage too (workers on other hosts write them there),
    # and the decision's artifact says who approved what.
    files = {p.name for p in (layout.shared / "reports" / PROGRAMME / "2026").iterdir()}
    assert {"bao-cao-2026-215-BC-UBND.docx", "bao-cao-2026-du-thao-1.docx"} <= files, files
    decision = Artifact.get(f"decision-{PROGRAMME}-2026").data
    assert "215/BC-UBND" in decision and "Nguyễn Văn A" in decision


def state_names(flow_run_id) -> list[str]:
    with get_client(sync_client=True) as client:
        return [s.name for s in client.read_flow_run_states(flow_run_id)]


def request_statuses(url: str, year: int) -> dict[str, str]:
    """Agency -> delivery status of its ``year`` request, as the outbox recorded it."""
    with session_scope(url) as session:
        cycle = get_cycle(PROGRAMME, year, session=session)
        rows = session.execute(
            select(OutgoingMessage.recipient_key, OutgoingMessage.status).where(
                OutgoingMessage.cycle_id == cycle.id, OutgoingMessage.kind == "request"
            )
        )
        return {key: str(status) for key, status in rows}


def check_each_agency_once(smtp: SmtpServer, url: str, year: int, since: int) -> None:
    """No agency got its request twice; one that got none is recorded as unknown (its data
    was with the relay when the run died: never resent blindly, `r42 deliveries` lists it)."""
    copies, agencies = requests_received(smtp, url, year, since)
    assert set(copies.values()) == {1}, copies
    statuses = request_statuses(url, year)
    missing = {key: status for key, status in statuses.items() if key not in copies}
    assert len(statuses) == agencies and set(missing.values()) <= {"unknown"}, missing
    # At most one message per SMTP connection was in flight.
    assert len(missing) <= MailSettings().smtp_connections


def requests_received(
    smtp: SmtpServer, url: str, year: int, since: int
) -> tuple[Counter, int]:
    """Agency -> copies of its ``year`` request the SMTP server received after ``since``, and
    how many agencies the cycle asked."""
    with session_scope(url) as session:
        try:
            cycle = get_cycle(PROGRAMME, year, session=session)
        except LookupError:  # not opened yet
            return Counter(), 0
        ids = {
            mid.strip("<>"): key
            for mid, key in session.execute(
                select(OutgoingMessage.message_id, OutgoingMessage.recipient_key).where(
                    OutgoingMessage.cycle_id == cycle.id, OutgoingMessage.kind == "request"
                )
            )
        }
        agencies = len(cycle_requests(cycle, session=session))
    found = Counter(
        ids[mid]
        for r in smtp.received[since:]
        if (mid := r.message["Message-ID"].strip("<>")) in ids
    )
    return found, agencies


def test_a_run_whose_worker_is_killed_is_crashed_rescheduled_once_and_finishes(stack, app_db):
    """kill -9 of a worker and its flow run mid open-cycle: the heartbeats stop, the automation
    marks the run Crashed, the other one schedules it again, a worker finishes it, the
    supervisor has started the killed worker again, and no agency gets its request twice."""
    layout, smtp = stack
    smtp.handler.data_delay = SLOW_RELAY  # the run is caught while sending
    since = len(smtp.received)
    try:
        flow_run = run_deployment(
            "open-cycle/open-cycle",
            parameters={"year": 2027, "opened_on": "2027-11-02", "as_of": at("2027-11-02", 8)},
            timeout=0,
        )
        wait_for_state(flow_run.id, lambda s: s.is_running(), 180)
        deadline = time.monotonic() + 180
        while sum(requests_received(smtp, app_db, 2027, since)[0].values()) < 3:
            assert time.monotonic() < deadline, "the opening never started sending"
            time.sleep(0.2)
        (worker,) = worker_of(layout, flow_run.id)
        supervisor = json.loads((layout.state / "pids" / f"{worker}.pid").read_text())["pid"]
        killed = descendants(supervisor)
        for pid in killed:  # the worker and the flow run it started: nothing can report
            os.kill(pid, signal.SIGKILL)
        smtp.handler.data_delay = 0
        # Crashed is final until the automation schedules the run again: wait past it.
        done = wait_for_state(flow_run.id, lambda s: s.is_final() and not s.is_crashed(), 420)
    finally:
        smtp.handler.data_delay = 0
    assert done.state.is_completed(), done.state
    names = state_names(flow_run.id)
    assert "Crashed" in names and "AwaitingRetry" in names, names
    assert done.run_count == 2
    check_each_agency_once(smtp, app_db, 2027, since)
    # The supervisor started the worker again by itself.
    log = (layout.state / "logs" / f"{worker}.log").read_text(errors="replace")
    assert "restarting in" in log
    assert all(pid not in descendants(supervisor) for pid in killed)
    assert descendants(supervisor), "the supervisor did not start the worker again"


def test_stopping_the_workers_ends_their_runs_clearly_and_up_finishes_them(stack, app_db):
    """What prod-down does to a worker (SIGTERM, a grace period) mid-run: the run ends Crashed
    at once with the reason, is scheduled again, and runs when the workers are back."""
    layout, smtp = stack
    smtp.handler.data_delay = SLOW_RELAY
    since = len(smtp.received)
    try:
        flow_run = run_deployment(
            "open-cycle/open-cycle",
            parameters={"year": 2028, "opened_on": "2028-11-02", "as_of": at("2028-11-02", 8)},
            timeout=0,
        )
        wait_for_state(flow_run.id, lambda s: s.is_running(), 180)
        deadline = time.monotonic() + 180
        while sum(requests_received(smtp, app_db, 2028, since)[0].values()) < 3:
            assert time.monotonic() < deadline, "the opening never started sending"
            time.sleep(0.2)
        started = time.monotonic()
        stop_workers(layout)  # what prod-down does before it stops the server
        assert time.monotonic() - started < 30
        waiting = wait_for_state(flow_run.id, lambda s: s.is_scheduled(), 30)
        assert waiting.state.name == "AwaitingRetry"
        assert "Crashed" in state_names(flow_run.id)
        smtp.handler.data_delay = 0
        up(layout)  # the workers come back; the run goes on
        done = wait_for_state(flow_run.id, lambda s: s.is_final(), 240)
        # What the stopped run had claimed but not sent waits for its claim's lease (20 s
        # here); then deliver-outbox (every 5 minutes in production) sends it.
        time.sleep(max(0.0, started + 21 - time.monotonic()))
        outbox = run_deployment("deliver-outbox/deliver-outbox", timeout=0)
        assert wait_for_state(outbox.id, lambda s: s.is_final(), 240).state.is_completed()
    finally:
        smtp.handler.data_delay = 0
    assert done.state.is_completed(), done.state
    check_each_agency_once(smtp, app_db, 2028, since)


def test_cancelling_a_run_whose_worker_is_gone_ends_cancelled(stack, app_db):
    """Cancel in the UI needs a worker to stop the run; with its worker killed the run would
    stay Cancelling: the automation ends it Cancelled a minute later (not rescheduled)."""
    layout, smtp = stack
    smtp.handler.data_delay = SLOW_RELAY
    since = len(smtp.received)
    try:
        flow_run = run_deployment(
            "open-cycle/open-cycle",
            parameters={"year": 2029, "opened_on": "2029-11-02", "as_of": at("2029-11-02", 8)},
            timeout=0,
        )
        wait_for_state(flow_run.id, lambda s: s.is_running(), 180)
        deadline = time.monotonic() + 180
        while sum(requests_received(smtp, app_db, 2029, since)[0].values()) < 3:
            assert time.monotonic() < deadline, "the opening never started sending"
            time.sleep(0.2)
        (worker,) = worker_of(layout, flow_run.id)
        supervisor = json.loads((layout.state / "pids" / f"{worker}.pid").read_text())["pid"]
        for pid in descendants(supervisor):
            os.kill(pid, signal.SIGKILL)
        with get_client(sync_client=True) as client:
            client.set_flow_run_state(flow_run.id, Cancelling(), force=True)
        done = wait_for_state(flow_run.id, lambda s: s.is_final(), 240)
    finally:
        smtp.handler.data_delay = 0
    assert done.state.is_cancelled(), done.state
    assert "no worker acknowledged" in done.state.message
    assert "Crashed" not in state_names(flow_run.id)


def test_the_cycle_calendar_starts_each_programmes_due_runs_once(stack, app_db):
    """The only dated schedule is the daily cycle-calendar (paused here like every schedule).
    Run by a worker for a simulated 02/11/2030 with both shipped programmes loaded, it starts
    vinh-long-r42's opening (the example opens on 01/11) as a run of open-cycle named for the
    programme and the year, which a worker completes; run again that day it starts nothing."""
    layout, smtp = stack
    with get_client(sync_client=True) as client:
        calendar = client.read_deployment_by_name("cycle-calendar/cycle-calendar")
        (schedule,) = calendar.schedules
        assert schedule.slug == "cycle-calendar-daily"
        assert (schedule.schedule.cron, schedule.schedule.timezone) == (
            "0 8 * * *",
            "Asia/Ho_Chi_Minh",
        )
        for name in ("open-cycle", "send-reminders", "consolidate"):
            assert client.read_deployment_by_name(f"{name}/{name}").schedules == []
    run(layout, [str(BIN / "r42"), "load-registry", "--programme", "example-elderly-care"])
    since = len(smtp.received)
    opening = at("2030-11-02", 8)
    first = deployment_run("cycle-calendar/cycle-calendar", as_of=opening)
    again = deployment_run("cycle-calendar/cycle-calendar", as_of=opening)
    (row,) = again.state.result()
    assert row["Kết quả"].startswith("đã có từ trước: vinh-long-r42-2030: mở kỳ báo cáo"), row
    with get_client(sync_client=True) as client:
        started = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=["cycle-calendar"]))
        )
    assert [r.name for r in started] == ["vinh-long-r42-2030: mở kỳ báo cáo"], first.state
    assert started[0].parameters == {
        "year": 2030,
        "programme": PROGRAMME,
        "opened_on": "2030-11-02",
        "as_of": opening,
    }
    done = wait_for_state(started[0].id, lambda s: s.is_final(), 240)
    assert done.state.is_completed(), done.state
    copies, agencies = requests_received(smtp, app_db, 2030, since)
    assert agencies == len(copies) > 0 and set(copies.values()) == {1}
