"""The web form's confirmation step for values that look wrong (``reporting.plausibility``).

Such a value is not refused: the form comes back with what was typed, how each flagged value
was read ("1.250,5 = một nghìn hai trăm năm mươi phẩy năm") and why it was flagged, and a box
to tick. Only a post that confirms exactly the values now flagged is stored; a value changed
after its confirmation is asked about again.
"""

from __future__ import annotations

import datetime as dt

from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from models.orm import Request
from portal.pages import form_page
from reporting import form_fields
from reporting.plausibility import confirmation_key, flags_for
from reporting.submission_input import validate

CONFIRM_FIELD = "xac_nhan"  # the ticked box: the key of the values confirmed
ASKED_FIELD = "xac_nhan_hoi"  # the key the page asked about (the clerk has seen the question)
ASK = (
    "Báo cáo chưa được gửi: {count} số liệu dưới đây có vẻ bất thường. Vui lòng kiểm tra cách "
    "hệ thống đọc từng số; nếu đúng, đánh dấu ô xác nhận rồi bấm «Xác nhận và gửi báo cáo», "
    "nếu sai, sửa lại rồi gửi."
)
NOT_TICKED = (
    "Báo cáo chưa được gửi: vui lòng đánh dấu ô xác nhận các số liệu bất thường dưới đây "
    "(hoặc sửa lại các số liệu đó) rồi gửi lại."
)


def held_for_confirmation(
    request: Request,
    token: str,
    form: dict,
    fields: dict[str, str],
    *,
    session: Session,
    now: dt.datetime,
) -> HTMLResponse | None:
    """The confirmation page when the post has flagged values it does not confirm; None when
    it may be stored (nothing flagged, or every flag confirmed). A post with invalid fields
    goes on to validation first: its errors are shown before any question."""
    data = form_fields.to_submission(fields, request)
    if validate(request, data):
        return None
    flagged = flags_for(request, data.values, session=session)
    key = confirmation_key(flagged)
    if not flagged or form.get(CONFIRM_FIELD) == key:
        return None
    rows = [
        {
            "number": f.number,
            "name": f.name,
            "input": f"value__{f.code}",
            "reading": f.reading,
            "reasons": [flag.message for flag in f.flags],
        }
        for f in flagged
    ]
    asked = form.get(ASKED_FIELD) == key
    return form_page(
        request,
        token,
        fields,
        now=now,
        notice=NOT_TICKED if asked else ASK.format(count=len(rows)),
        confirm={"key": key, "rows": rows, "field": CONFIRM_FIELD, "asked_field": ASKED_FIELD},
        warnings={row["input"]: " ".join(row["reasons"]) for row in rows},
    )
