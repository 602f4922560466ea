"""Coordinators' actions as flows, so they can be run from the Prefect UI with a form."""

import datetime as dt
from typing import Literal

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from config.settings import get_settings
from flows.common import cycle_ref, deliver_messages, run_scope
from flows.parameters import AGENCY, BY, KIND, PROGRAMME, YEAR, Kind, asked
from models.cycles import get_cycle, get_request
from models.database import session_scope
from models.orm import CycleKind, CycleStatus
from reporting import coordination

@task(cache_policy=NO_CACHE)
def record_send_back(
    programme: str,
    year: int,
    agency: str,
    reason: str,
    by: str,
    now: dt.datetime,
    kind: str = CycleKind.ANNUAL,
) -> None:
    """Return the agency's latest report with the reason and queue the email that says so."""
    with session_scope() as session:
        coordination.send_back(
            get_request(programme, year, agency, session=session, kind=kind),
            reason,
            session=session,
            settings=get_settings(),
            actor=by,
            now=now,
        )


@task(cache_policy=NO_CACHE)
def record_reissue(
    programme: str,
    year: int,
    agency: str,
    by: str,
    now: dt.datetime,
    kind: str = CycleKind.ANNUAL,
) -> None:
    """Revoke the agency's link and queue the email with the new one."""
    with session_scope() as session:
        coordination.reissue_link(
            get_request(programme, year, agency, session=session, kind=kind),
            session=session,
            settings=get_settings(),
            actor=by,
            now=now,
        )


@flow(name="send-back-report")
def send_back_flow(
    year: int = YEAR,
    agency: str = AGENCY,
    reason: str = asked("Lý do trả lại", "Cần chỉnh sửa, bổ sung những gì (gửi kèm email)"),
    programme: str | None = PROGRAMME,
    by: str = BY,
    kind: Kind = KIND,
) -> None:
    """Send an agency's report back with a reason (Vietnamese); the agency is emailed its link."""
    scope = run_scope(year, programme, None)
    record_send_back(scope.programme, year, agency, reason, by, scope.now, kind)
    deliver_messages(cycle_ref(scope.programme, year, kind), scope.now)
    get_run_logger().info("Sent back the latest report of %s", agency)


@flow(name="reissue-link")
def reissue_link_flow(
    year: int = YEAR,
    agency: str = AGENCY,
    programme: str | None = PROGRAMME,
    by: str = BY,
    kind: Kind = KIND,
) -> None:
    """Revoke an agency's personal link and email it a new one."""
    scope = run_scope(year, programme, None)
    record_reissue(scope.programme, year, agency, by, scope.now, kind)
    deliver_messages(cycle_ref(scope.programme, year, kind), scope.now)


@flow(name="set-cycle-status")
def set_cycle_status_flow(
    year: int = YEAR,
    status: Literal["locked", "open"] = asked(
        "Trạng thái", "locked: khóa kỳ, không nhận thêm báo cáo; open: mở lại kỳ"
    ),
    programme: str | None = PROGRAMME,
    by: str = BY,
    kind: Kind = KIND,
) -> str:
    """Lock a cycle (no more revisions) or reopen it."""
    scope = run_scope(year, programme, None)
    with session_scope() as session:
        cycle = get_cycle(scope.programme, year, session=session, kind=kind)
        coordination.set_cycle_status(
            cycle, CycleStatus(status), session=session, actor=by, now=scope.now
        )
    return status
