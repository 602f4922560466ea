"""The Excel form bound to its request: a token signed like the personal link (request id,
programme, year, kind, agency, form version) in a very hidden sheet, and the agency's name on
the visible sheets, both checked when the form comes back by any channel."""

from __future__ import annotations

import datetime as dt
import unicodedata

from config.settings import get_settings
from documents.excel_form import build_form
from documents.form_identity import FORM_VERSION, META_KEYS
from documents.xlsx_safety import refuse
from models.observations import Observed
from models.orm import Request
from reporting.excel_reader import RELOAD
from reporting.links import LinkClaims, LinkError, link_secrets, make_token, read_token


def signing_key(
    programme: str, year: int | str, kind: str, agency: str, version: str, secret: str
) -> str:
    """The key a form is signed with: what its hidden sheet says it is, and the link secret
    (a form whose hidden agency or cycle was changed no longer verifies)."""
    return f"form|{programme}|{year}|{kind}|{agency}|{version}|{secret}"


def form_token(request: Request, version: str) -> str:
    cycle = request.cycle
    secret = get_settings().web_form.link_secret.get_secret_value()
    code = request.agency.code
    key = signing_key(cycle.programme.code, cycle.year, cycle.kind, code, version, secret)
    return make_token(LinkClaims(request.id, 0, dt.date(cycle.year + 10, 12, 31)), key)


def signed_form(
    request: Request,
    *,
    previous: dict[str, Observed],
    link: str,
    fields: dict[str, str] | None = None,
) -> bytes:
    """The agency's yearly Excel form (``documents.excel_form.build_form``), signed for
    ``request`` so that it is checked as its own when it comes back."""
    token = form_token(request, FORM_VERSION)
    return build_form(request, previous=previous, link=link, token=token, fields=fields)


def plain(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def check_binding(
    head: dict[str, str],
    token: str | None,
    names: list[str],
    request: Request,
    *,
    require_token: bool,
) -> None:
    """ExcelFormError unless the form was made for ``request``: its token verifies for what its
    hidden sheet says and names this request, and its visible agency name is this agency's.
    Forms made before forms were signed carry no token: refused where the file alone says
    whose it is (``require_token``: ops importing without naming the agency)."""
    agency = request.agency
    if token:
        keys = [
            signing_key(*(head.get(k, "") for k in META_KEYS), secret)
            for secret in link_secrets(get_settings().web_form)
        ]
        try:
            claims = read_token(token, keys, today=None)
        except LinkError:
            claims = None
        if claims is None or claims.request_id != request.id:
            refuse(
                f"Biểu mẫu không khớp với chữ ký của hệ thống (phần thông tin ẩn đã bị sửa hoặc là "
                f"biểu mẫu của đơn vị khác), không phải biểu mẫu của {agency.name}. {RELOAD}"
            )
    elif require_token:
        refuse(
            "Biểu mẫu không có chữ ký của hệ thống nên không xác định được đơn vị gửi; hãy nêu "
            f"rõ đơn vị khi nhập (--agency) hoặc dùng biểu mẫu mới tải từ đường dẫn. {RELOAD}"
        )
    for name in names:
        if name and plain(name) != plain(agency.name):
            refuse(
                f"Tên đơn vị trên biểu mẫu «{name[:80]}» không khớp với đơn vị của biểu mẫu "
                f"«{agency.name}». {RELOAD}"
            )
