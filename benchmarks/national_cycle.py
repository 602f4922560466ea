"""A national-scale cycle for the benchmark: generated agencies through the real open-cycle path.

The shipped programme (34 targets, its task groups) with a generated registry version of N
communes ("Ủy ban nhân dân xã Số 123" / ``vanthu@xa123.tinh05.example``), each reporting all 34
indicators and 7 task groups, loaded into a fresh migrated SQLite file with invented 2025
provincial values. ``open_national_cycle`` then times exactly what the open-cycle flow runs:
``open_cycle`` and ``reporting.requests.queue_requests`` (per agency: its pre-filled XLSX form,
the request email with it attached, the outbox row), in one transaction, commit included.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from config import registry as reg
from config.registry_files import load_programme
from config.settings import Settings
from mail.transport import Envelope
from models.cycles import ensure_requests, open_cycle
from models.database import get_engine, session_scope, upgrade_database
from models.observations import Observed, observations_for, record_observations
from models.orm import OutgoingMessage
from models.registry_store import get_programme, load_registry
from reporting.form_binding import signed_form
from reporting.messages import link_for
from reporting.requests import queue_requests

PROGRAMME = "vinh-long-r42"
ICT = dt.timezone(dt.timedelta(hours=7))
OPENED = dt.date(2026, 11, 2)
NOW = dt.datetime(2026, 11, 2, 8, tzinfo=ICT)
KINDS = {"xã": "xa", "phường": "phuong", "thị trấn": "thitran", "đặc khu": "dackhu"}


def generated_registry(count: int) -> reg.ProgrammeRegistry:
    """The shipped programme with one registry version of ``count`` generated communes."""
    shipped = load_programme(PROGRAMME)
    indicators = [t.code for t in shipped.programme.targets]
    groups = [g.code for g in shipped.programme.task_groups][:7]
    agencies = []
    for number in range(1, count + 1):
        kind = list(KINDS)[number % len(KINDS)]
        domain = f"{KINDS[kind]}{number}.tinh{number % 34 + 1:02d}.example"
        agencies.append(
            reg.Agency(
                code=f"{KINDS[kind]}-{number}",
                name=f"Ủy ban nhân dân {kind} Số {number}",
                kind=reg.AgencyKind.LOCAL,
                email=f"vanthu@{domain}",
                head_title="Chủ tịch",
                head_email=f"chutich@{domain}",
                indicators=indicators,
                task_groups=groups,
            )
        )
    version = shipped.version_on(OPENED).model_copy(
        update={"agencies": agencies, "standing_agency": agencies[0].code}
    )
    return reg.ProgrammeRegistry(programme=shipped.programme, versions=[version])


def invented_values(programme: reg.Programme) -> dict[str, Observed]:
    """2025 provincial values for every target, so each form and email shows last year's."""
    return {
        t.code: Observed(None, True)
        if t.kind is reg.ValueKind.YES_NO
        else Observed(Decimal(f"{40 + number * 1.7:.1f}"), None)
        for number, t in enumerate(programme.targets)
    }


@dataclass
class NationalCycle:
    agencies: int
    indicators: int
    seconds: float  # open_cycle + queue_requests + commit
    cpu_seconds: float  # the same, CPU time of this process (less sensitive to other load)
    queued: int
    octets: int
    form_ms: float  # build_form alone, mean over a sample
    form_bytes: int
    sample_form: bytes
    envelopes: list[Envelope]
    cycle_id: int


def open_national_cycle(url: str, count: int, *, settings: Settings) -> NationalCycle:
    """Load a generated registry into ``url`` (a fresh database), then open the cycle, timed."""
    upgrade_database(url)
    registry = generated_registry(count)
    with session_scope(url) as session:
        load_registry(registry, session=session)
        programme = get_programme(PROGRAMME, session=session)
        values = invented_values(registry.programme)
        record_observations(programme, 2025, values, session=session, source="benchmark")
    start, cpu = time.perf_counter(), time.process_time()
    with session_scope(url) as session:  # what the open-cycle flow's task runs
        cycle, _ = open_cycle(PROGRAMME, 2026, OPENED, session=session)
        rows = queue_requests(cycle, session=session, settings=settings, now=NOW)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    with session_scope(url) as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, OPENED, session=session)
        requests = ensure_requests(cycle, session=session)
        previous = observations_for(cycle.programme, 2025, session=session)
        sample = requests[: min(200, len(requests))]
        forms_start = time.perf_counter()
        forms = [signed_form(r, previous=previous, link=link_for(r, settings)[0]) for r in sample]
        form_ms = (time.perf_counter() - forms_start) / len(sample) * 1000
        messages = session.scalars(
            select(OutgoingMessage)
            .options(selectinload(OutgoingMessage.body))
            .order_by(OutgoingMessage.id)
        )
        envelopes = [
            Envelope(
                m.message_id,
                f"{m.kind}-{m.recipient_key}",
                settings.mail.sender_address,
                list(m.to_addrs) + list(m.cc_addrs),
                m.raw,
                key=m.id,
                wire_form=True,  # as the outbox gives them to a delivery run
            )
            for m in messages
        ]
        indicators = len(requests[0].agency.indicators)
        cycle_id = cycle.id
    get_engine(url).dispose()
    return NationalCycle(
        agencies=len(rows),
        indicators=indicators,
        seconds=seconds,
        cpu_seconds=cpu,
        queued=sum(r.queued for r in rows),
        octets=sum(len(e.raw) for e in envelopes),
        form_ms=form_ms,
        form_bytes=len(forms[0]),
        sample_form=forms[0],
        envelopes=envelopes,
        cycle_id=cycle_id,
    )
