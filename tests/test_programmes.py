"""Two programmes side by side, same year, same database: their cycles never mix.

The invented example programme (config/programmes/example-elderly-care) deliberately reuses two
agency codes of vinh-long-r42 (so-y-te, ubnd-xa-long-ho), has another deadline (16/11/2026:
15/11 is a Sunday and this programme moves to the next working day), another ladder, its own
sender, subject tag, ministry, recipients and signer.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cli import main as cli
from config.registry_files import load_programme, programme_codes
from config.settings import get_settings
from flows.approval import CoordinatorDecision, answer, find_waiting_runs
from flows.consolidate import consolidate_flow
from flows.open_cycle import open_cycle_flow
from flows.send_reminders import send_reminders_flow
from flows.submit_report import submit_report_flow
from mail.delivery import deliver_configured
from models.cycles import cycle_requests, ensure_requests, get_cycle, open_cycle
from models.database import session_scope
from models.orm import Channel, OutgoingMessage, Request, Submission
from models.registry_store import load_registry
from models.reports import latest_report
from portal.app import create_app
from reporting.intake import accept_submission
from reporting.links import link_secrets, read_token
from reporting.messages import link_for
from reporting.requests import queue_requests
from tests.factories import at, valid_input

R42, EXAMPLE = "vinh-long-r42", "example-elderly-care"
OPENED = dt.date(2026, 11, 2)
DEADLINES = {R42: dt.date(2026, 12, 4), EXAMPLE: dt.date(2026, 11, 16)}
TAGS = {R42: "[NQ42]", EXAMPLE: "[NCT-VÍ-DỤ]"}
SENDERS = {
    R42: "Bộ phận tổng hợp Nghị quyết 42",
    EXAMPLE: "Văn phòng Kế hoạch ví dụ về người cao tuổi",
}
SENDER_ADDRESSES = {R42: "tonghop-nq42@vinhlong.example", EXAMPLE: "vanphong-nct@vidu.example"}
SHARED_CODES = {"so-y-te", "ubnd-xa-long-ho"}


@pytest.fixture
def both(db):
    """The shipped registry and the example one, in one database."""
    with session_scope() as session:
        load_registry(load_programme(EXAMPLE), session=session)
    return db


def registry_of(programme: str) -> dict[str, str]:
    """Agency code -> address for the agencies of the registry a 2026 cycle opened on 02/11 uses."""
    version = load_programme(programme).version_on(OPENED)
    return {a.code: str(a.email) for a in version.agencies if a.active_on(OPENED)}


def submit(programme: str, codes: set[str], day: dt.date) -> None:
    """Agencies report through the one intake service (the receipt is queued too)."""
    with session_scope() as session:
        cycle = get_cycle(programme, 2026, session=session)
        for request in cycle_requests(cycle, session=session):
            if request.agency.code in codes:
                accept_submission(
                    request,
                    valid_input(request.agency),
                    session=session,
                    settings=get_settings(),
                    channel=Channel.WEB_FORM,
                    submitted_by="test",
                    now=at(day),
                )


def received_by_programme(smtp) -> dict[str, list[email.message.EmailMessage]]:
    """Received messages grouped by the subject tag they open with (each must have one)."""
    groups: dict[str, list] = {R42: [], EXAMPLE: []}
    for received in smtp.received:
        message = received.message
        (programme,) = [p for p, tag in TAGS.items() if message["Subject"].startswith(tag)]
        groups[programme].append((received, message))
    return groups


def check_messages_belong(programme: str, items: list, codes: dict[str, str]) -> None:
    other = EXAMPLE if programme == R42 else R42
    own_name = load_programme(programme).programme.short_name
    other_name = load_programme(other).programme.short_name
    for received, message in items:
        assert set(received.recipients) <= set(codes.values()) | heads(programme)
        sender = message["From"].addresses[0]
        assert " ".join(sender.display_name.split()) == SENDERS[programme]  # CPython gh-128110
        assert sender.addr_spec == SENDER_ADDRESSES[programme]
        text = message.get_body(("plain",)).get_content()
        assert other_name not in text and other_name not in message["Subject"]
        if "Đề nghị báo cáo" in message["Subject"]:
            assert own_name in message["Subject"]
        for token in re.findall(r"/bao-cao/([A-Za-z0-9_.-]+)", text):
            claims = read_token(token, link_secrets(get_settings().web_form), today=OPENED)
            with session_scope() as session:
                request = session.get(Request, claims.request_id)
                assert request.cycle.programme.code == programme
                assert request.agency.email in received.recipients


def heads(programme: str) -> set[str]:
    version = load_programme(programme).version_on(OPENED)
    return {str(a.head_email) for a in version.agencies}


@pytest.mark.usefixtures("prefect_harness", "both")
def test_two_programmes_cycles_side_by_side_never_mix(smtp, smtp_settings):
    codes = {p: registry_of(p) for p in (R42, EXAMPLE)}
    assert SHARED_CODES <= set(codes[R42]) & set(codes[EXAMPLE])

    # Open both for the same year, on the same day.
    for programme in (R42, EXAMPLE):
        result = open_cycle_flow(
            year=2026, programme=programme, opened_on=OPENED, as_of=at(OPENED, 8)
        )
        assert result["agencies"] == result["queued"] == result["sent"] == len(codes[programme])
    with session_scope() as session:
        for programme in (R42, EXAMPLE):
            cycle = get_cycle(programme, 2026, session=session)
            assert cycle.deadline == DEADLINES[programme]
            assert cycle.registry_version.programme.code == programme
            requests = cycle_requests(cycle, session=session)
            assert {r.agency.code for r in requests} == set(codes[programme])
            assert all(
                r.agency.registry_version.programme_id == cycle.programme_id for r in requests
            )
    groups = received_by_programme(smtp)
    for programme in (R42, EXAMPLE):
        assert len(groups[programme]) == len(codes[programme])
        check_messages_belong(programme, groups[programme], codes[programme])
    smtp.received.clear()

    # The same agency code reports in the example programme only.
    submit(EXAMPLE, {"so-y-te", "bhxh-tinh"}, dt.date(2026, 11, 5))
    submit(R42, {"so-noi-vu", "ubnd-xa-long-ho"}, dt.date(2026, 11, 6))
    with session_scope() as session:
        for programme, reported in (
            (EXAMPLE, {"so-y-te", "bhxh-tinh"}),
            (R42, {"so-noi-vu", "ubnd-xa-long-ho"}),
        ):
            cycle = get_cycle(programme, 2026, session=session)
            done = {r.agency.code for r in cycle_requests(cycle, session=session) if r.submissions}
            assert done == reported

    # Each programme's own ladder: 11/11 is D-5 of the example, nothing yet for R42 (D-23).
    day = dt.date(2026, 11, 11)
    for programme in (R42, EXAMPLE):
        deliver_configured(get_cycle_id(programme), now=at(day))  # the receipts
    smtp.received.clear()
    example_run = send_reminders_flow(year=2026, programme=EXAMPLE, on=day, as_of=at(day))
    r42_run = send_reminders_flow(year=2026, programme=R42, on=day, as_of=at(day))
    assert example_run["rung"] == -5 and r42_run["rung"] is None
    assert set(example_run["queued"]) == set(codes[EXAMPLE]) - {"so-y-te", "bhxh-tinh"}
    assert "ubnd-xa-long-ho" in example_run["queued"]  # reported in R42, not here
    groups = received_by_programme(smtp)
    assert groups[R42] == []
    assert sorted(r.recipients[0] for r, _ in groups[EXAMPLE]) == sorted(
        codes[EXAMPLE][c] for c in example_run["queued"]
    )
    check_messages_belong(EXAMPLE, groups[EXAMPLE], codes[EXAMPLE])

    # R42's first rung (D-14 of 04/12) reminds R42 agencies only; so-y-te of R42 has not reported.
    day = dt.date(2026, 11, 20)
    smtp.received.clear()
    r42_run = send_reminders_flow(year=2026, programme=R42, on=day, as_of=at(day))
    assert r42_run["rung"] == -14 and "so-y-te" in r42_run["queued"]
    assert set(r42_run["submitted"]) == {"so-noi-vu", "ubnd-xa-long-ho"}
    groups = received_by_programme(smtp)
    assert groups[EXAMPLE] == [] and len(groups[R42]) == len(r42_run["queued"])
    check_messages_belong(R42, groups[R42], codes[R42])

    # Consolidation and report: each with its own agencies, targets, wording, signer.
    for programme in (R42, EXAMPLE):
        consolidate_flow(year=2026, programme=programme, as_of=at(DEADLINES[programme], 18))
    with session_scope() as session:
        reports = {
            p: latest_report(get_cycle(p, 2026, session=session), session=session)
            for p in (R42, EXAMPLE)
        }
        for programme, other in ((R42, EXAMPLE), (EXAMPLE, R42)):
            data, text = reports[programme].data, reports[programme].markdown
            registry = load_programme(programme)
            assert {a["code"] for a in data["agencies"]} == set(codes[programme])
            assert [i["code"] for i in data["indicators"]] == [
                t.code for t in registry.programme.targets
            ]
            assert data["requested"] == len(codes[programme]) and data["on_time"] == 2
            # A draft names no signer (the coordinator names them at approval), in every format.
            assert registry.version_on(OPENED).signer.name not in text
            assert registry.version_on(OPENED).signer.title in text
            assert data["programme"] == registry.programme.name
        assert "tỉnh ví dụ" in reports[EXAMPLE].markdown.lower()  # the header is in capitals
        assert "ví dụ" not in reports[R42].markdown.lower()
        for programme, other in ((R42, EXAMPLE), (EXAMPLE, R42)):  # the "Nơi nhận" block
            own, theirs = (
                set(load_programme(p).version_on(OPENED).recipients) for p in (programme, other)
            )
            text = reports[programme].markdown
            assert all(line in text for line in own)
            assert not any(line in text for line in theirs - own)

        # The outbox: every message of a cycle goes to an agency of that cycle's registry.
        for message in session.scalars(select(OutgoingMessage)):
            if message.agency is not None:
                assert message.agency.registry_version_id == message.cycle.registry_version_id


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_bounces_go_to_the_programme_address(both, smtp, smtp_settings):
    with session_scope() as session:
        cycle, _ = open_cycle(EXAMPLE, 2026, OPENED, session=session)
        queue_requests(cycle, session=session, settings=get_settings(), now=at(OPENED, 8))
    deliver_configured(get_cycle_id(EXAMPLE), now=at(OPENED, 8))
    assert smtp.received
    assert {r.sender for r in smtp.received} == {SENDER_ADDRESSES[EXAMPLE]}


def get_cycle_id(programme: str) -> int:
    with session_scope() as session:
        return get_cycle(programme, 2026, session=session).id


def test_outbox_files_of_two_programmes_never_overwrite_each_other(both):
    """Same year, same agency code in both: two files, each with its own programme's request."""
    with session_scope() as session:
        for programme in (R42, EXAMPLE):
            cycle, _ = open_cycle(programme, 2026, OPENED, session=session)
            queue_requests(cycle, session=session, settings=get_settings(), now=at(OPENED, 8))
    for programme in (R42, EXAMPLE):
        results = deliver_configured(get_cycle_id(programme), now=at(OPENED, 8)).results
        assert results and all(r.reply.startswith("written to") for r in results)
    files = sorted(get_settings().mail.outbox_dir.glob("*-request-so-y-te.eml"))
    assert [p.name for p in files] == [
        f"{EXAMPLE}-2026-annual-request-so-y-te.eml",
        f"{R42}-2026-annual-request-so-y-te.eml",
    ]
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        programme = EXAMPLE if path.name.startswith(EXAMPLE) else R42
        assert message["Subject"].startswith(TAGS[programme])
        assert message["To"].addresses[0].addr_spec == registry_of(programme)["so-y-te"]


def test_a_link_opens_its_own_programme_request_only(both, configure):
    configure(R42_WEB_FORM__PUBLIC_BASE_URL="http://testserver")
    links = {}
    with session_scope() as session:
        for programme in (R42, EXAMPLE):
            cycle, _ = open_cycle(programme, 2026, OPENED, session=session)
            request = next(
                r for r in ensure_requests(cycle, session=session) if r.agency.code == "so-y-te"
            )
            links[programme] = (request.id, link_for(request, get_settings())[0])
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        for programme, (_, link) in links.items():
            other = EXAMPLE if programme == R42 else R42
            page = client.get(link.removeprefix("http://testserver"))
            assert page.status_code == 200
            own, theirs = (load_programme(p) for p in (programme, other))
            assert own.programme.short_name in page.text
            assert theirs.programme.short_name not in page.text
            title = re.search(r"<title>(.*)</title>", page.text).group(1)
            assert title == f"Báo cáo năm 2026 – {own.version_on(OPENED).agency('so-y-te').name}"
            for target in theirs.programme.targets:
                assert f"value__{target.code}" not in page.text

        # A link whose request id is swapped for the other programme's is refused.
        (r42_id, r42_link), (example_id, _) = links[R42], links[EXAMPLE]
        payload, signature = r42_link.rsplit("/", 1)[1].split(".")
        forged = payload.replace(*_swap_id(payload, r42_id, example_id))
        page = client.get(f"/bao-cao/{forged}.{signature}")
        assert page.status_code == 403
    with session_scope() as session:
        assert session.scalar(select(Submission.id)) is None


def _swap_id(payload: str, old: int, new: int) -> tuple[str, str]:
    import base64

    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    swapped = raw.replace(f'"r":{old},'.encode(), f'"r":{new},'.encode())
    assert swapped != raw
    return payload, base64.urlsafe_b64encode(swapped).rstrip(b"=").decode()


def test_ops_commands_take_the_programme(both, capsys):
    assert {R42, EXAMPLE} <= set(programme_codes())
    assert cli.main(["load-registry", "--programme", EXAMPLE]) == 0
    assert "example-elderly-care: created nothing" in capsys.readouterr().out
    with session_scope() as session:
        for programme in (R42, EXAMPLE):
            cycle, _ = open_cycle(programme, 2026, OPENED, session=session)
            ensure_requests(cycle, session=session)
    for programme in (R42, EXAMPLE):
        argv = ["link", "--year", "2026", "--agency", "so-y-te", "--programme", programme]
        assert cli.main(argv) == 0
        token = capsys.readouterr().out.split()[0].rsplit("/", 1)[1]
        claims = read_token(token, link_secrets(get_settings().web_form), today=OPENED)
        with session_scope() as session:
            assert session.get(Request, claims.request_id).cycle.programme.code == programme
    # An agency of one programme only is unknown to the other.
    argv = ["link", "--year", "2026", "--agency", "hoi-nct-tinh", "--programme", R42]
    assert cli.main(argv) == 2
    assert "hoi-nct-tinh" in capsys.readouterr().err


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.usefixtures("prefect_harness", "both")
def test_decide_answers_the_waiting_run_of_its_own_programme_only():
    """A run started without the programme parameter works on the configured one (R42)."""
    with session_scope() as session:
        for programme in (R42, EXAMPLE):
            cycle, _ = open_cycle(programme, 2026, OPENED, session=session)
            ensure_requests(cycle, session=session)
    consolidate_flow(year=2026, as_of=at(dt.date(2026, 12, 5), 17))
    seen: dict[str, list] = {}
    errors: list[Exception] = []
    back = CoordinatorDecision(decision="send_back", reason="Bổ sung số liệu", decided_by="test")

    def coordinator() -> None:
        try:
            for _ in range(240):
                if find_waiting_runs(2026, R42):
                    break
                time.sleep(0.25)
            seen[EXAMPLE], seen[R42] = (find_waiting_runs(2026, p) for p in (EXAMPLE, R42))
            with pytest.raises(LookupError):
                answer(2026, EXAMPLE, back)
        except Exception as exc:  # reported below; the waiting run is answered regardless
            errors.append(exc)
        finally:
            answer(2026, R42, back)

    thread = threading.Thread(target=coordinator)
    thread.start()
    result = submit_report_flow(year=2026, as_of=at(dt.date(2026, 12, 10), 9))
    thread.join()
    assert not errors, errors
    assert seen[EXAMPLE] == [] and len(seen[R42]) == 1
    assert result["status"] == "returned"
