"""A consolidated, approved 2026 report on a real (SQLite) database, and its rendered files.

Built once per test module (rendering the charts takes a few seconds): the demo's history
(2024, 2025) is imported, the 2026 cycle opened, a few agencies report (one a commune, one late,
one sent back and never resubmitted; values that look wrong flagged), the cycle is consolidated into a draft that the
coordinator approves as 215/BC-UBND, signed by Trần Thị Bình.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from config.registry_files import load_programme
from config.settings import get_settings
from mail.queue import find_message
from models.cycles import cycle_requests, ensure_requests, get_cycle, open_cycle
from models.database import reset_engines, session_scope, upgrade_database
from models.orm import Channel, MessageKind
from models.registry_store import load_registry
from models.reports import record_decision, save_draft
from reporting.consolidation import consolidate
from reporting.cycle_kinds import build_report_files
from reporting.intake import record_submission
from reporting.observation_import import import_observations
from reporting.report_files import ReportFiles
from reporting.submission import finalise_and_queue
from reporting.submission_input import SubmissionInput, TaskReportInput
from tests.factories import PROGRAMME, at

HISTORY = Path(__file__).resolve().parents[1] / "demo" / "history.yaml"
NUMBER, SIGNER = "215/BC-UBND", "Trần Thị Bình"
DECIDED = at(dt.date(2026, 12, 7), 9)  # a Monday: "ngày 07 tháng 12 năm 2026"
LATE_DAY = dt.date(2026, 12, 6)
# Typed by an agency: must show as typed, never run or format (tests/test_report_escaping.py).
MARKUP = "\n- Hội nghị <b>tập huấn</b> <script>alert(1)</script> [xem](javascript:x()) *a* 1_000"
# Two task groups, two texts: section II lists each agency once, with both (issue 14, item 12).
DIFFICULTIES = {5: "Thiếu kinh phí thực hiện.", 6: "Thiếu cán bộ chuyên trách."}
SPECIAL = {"social_housing": "4.257.581", "unemployment": "2,35"}  # formats to check


@dataclass
class Built:
    draft: ReportFiles
    final: ReportFiles
    data: dict
    registry: dict
    folder: Path
    email: bytes  # the message queued to the ministry


def _input(agency, value: str) -> SubmissionInput:  # type: ignore[no-untyped-def]
    values = {
        i.code: SPECIAL.get(
            i.code, "có" if i.kind == "yes_no" else "12" if i.kind == "count" else value
        )
        for i in agency.indicators
    }
    tasks = {
        g.code: TaskReportInput(
            status="in_progress" if agency.kind == "local" else "done",
            results=f"{agency.name} đã triển khai nhóm nhiệm vụ {g.number}."
            + (MARKUP if g.number == 3 else ""),
            difficulties=DIFFICULTIES.get(g.number, ""),
            proposals="Đề nghị Bộ hướng dẫn cách tính chỉ tiêu." if g.number == 1 else "",
        )
        for g in agency.task_groups
    }
    return SubmissionInput(
        values=values,
        tasks=tasks,
        adjustment_proposals="Điều chỉnh lộ trình chỉ tiêu nhà ở xã hội."
        if agency.code == "so-xay-dung"
        else "",
    )


def build(folder: Path) -> Built:
    """Everything above, on a fresh SQLite database under ``folder``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("R42_DATABASE__URL", f"sqlite:///{folder / 'r42.sqlite3'}")
        patch.setenv("R42_MAIL__OUTBOX_DIR", str(folder / "outbox"))
        patch.setenv("R42_CYCLE__REPORTS_DIR", str(folder / "reports"))
        get_settings.cache_clear()
        reset_engines()
        try:
            return _build(folder)
        finally:
            get_settings.cache_clear()
            reset_engines()


def _build(folder: Path) -> Built:
    upgrade_database()
    with session_scope() as session:
        load_registry(load_programme(PROGRAMME), session=session)
        import_observations(HISTORY, session=session)
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        ensure_requests(cycle, session=session)
    reporting = {
        "so-noi-vu": dt.date(2026, 11, 20),
        "so-xay-dung": dt.date(2026, 11, 25),
        "bhxh-tinh": dt.date(2026, 12, 1),
        "ubnd-phuong-thanh-duc": dt.date(2026, 11, 28),
        "so-y-te": LATE_DAY,
        "so-gddt": dt.date(2026, 11, 30),  # sent back below, never resubmitted
    }
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2026, session=session)
        for request in cycle_requests(cycle, session=session):
            day = reporting.get(request.agency.code)
            if day is None:
                continue
            submission = record_submission(
                request,
                _input(request.agency, "50,5"),
                session=session,
                channel=Channel.WEB_FORM,
                submitted_by="test",
                submitted_at=at(day),
                # Flagged as the web form would (confirmed), one agency as an import (warned).
                flags_confirmed=request.agency.code != "so-y-te",
            )
            if request.agency.code == "so-gddt":
                submission.status, submission.status_reason = "returned", "Thiếu số liệu."
        session.flush()
        consolidation = consolidate(cycle, session=session, as_of=at(dt.date(2026, 12, 6), 17))
        report, _ = save_draft(
            cycle,
            session=session,
            content_hash=consolidation.content_hash(),
            data=consolidation.as_data(),
            markdown="",
            html="",
            now=at(dt.date(2026, 12, 6), 17),
        )
        draft = build_report_files(report, session=session, draft=True)
        record_decision(
            report,
            session=session,
            approve=True,
            actor="coordinator",
            now=DECIDED,
            number=NUMBER,
            signer=SIGNER,
        )
        final = build_report_files(report, session=session, draft=False)
        finalise_and_queue(report, session=session, settings=get_settings(), now=DECIDED)
        message = find_message(cycle, MessageKind.REPORT, "ministry", report.revision,
                               session=session)  # fmt: skip
        return Built(
            draft,
            final,
            report.data,
            cycle.registry_version.document,
            folder,
            message.raw,
        )
