"""The demo's agency that asks for more time on its form, and the coordinator who grants it."""

from __future__ import annotations

import datetime as dt

from config.settings import get_settings
from models.cycles import get_request
from models.database import session_scope
from reporting.extensions import ask_for_more_time, decide_extension


def more_time(
    agency: str, until: dt.date, *, year: int, asked_at: dt.datetime, decided_at: dt.datetime
) -> str:
    """The agency asks for more time on its form; the coordinator grants it that afternoon."""
    with session_scope() as session:
        request = get_request("vinh-long-r42", year, agency, session=session)
        extension = ask_for_more_time(
            request,
            until.isoformat(),
            "Đang chờ số liệu của các đơn vị trực thuộc.",
            session=session,
            requested_by=f"{request.agency.email} (demo)",
            now=asked_at,
        )
        decide_extension(
            extension,
            grant=True,
            note="Đồng ý; đề nghị gửi báo cáo đúng ngày đã hẹn.",
            session=session,
            settings=get_settings(),
            actor="demo coordinator",
            now=decided_at,
        )
    return f"{agency} asked for more time until {until:%d/%m/%Y}: granted"
