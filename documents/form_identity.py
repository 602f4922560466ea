"""The Excel form's identity, in its hidden sheets: the very hidden ``_meta`` sheet (programme,
year, kind of cycle, agency, form version, and every row the form was built with) and the very
hidden sheet holding its signed token. A reader checks a returned file against them first
(``reporting.excel_reader``, ``reporting.evaluation_excel``) and binds it to its request
(``reporting.form_binding``); the visible sheets are ``documents.excel_form``."""

from __future__ import annotations

from documents.form_cells import META, META_ROWS, put
from documents.xlsx_parts import Style
from documents.xlsx_writer import Sheet
from models.orm import Request

FORM_VERSION = "1"
SIGNATURE = "_ky"  # the very hidden sheet holding the form's token in A1 (reporting.form_binding)
META_KEYS = ("programme", "year", "kind", "agency", "version")  # the hidden _meta sheet's keys


def meta_keys(request: Request, code: str, version: str) -> Sheet:
    """The hidden ``_meta`` sheet with what a reader checks a file against first: programme,
    year, kind of cycle, agency ``code`` and form ``version``."""
    cycle = request.cycle
    ws = Sheet(META, {"A": 12, "B": 30, "C": 60}, state="veryHidden")
    values = [cycle.programme.code, cycle.year, cycle.kind, code, version]
    for row, (key, value) in enumerate(zip(META_KEYS, values, strict=True), start=1):
        put(ws, f"A{row}", key)
        put(ws, f"B{row}", value)
    return ws


def meta_sheet(request: Request, code: str) -> Sheet:
    """What the reader checks the file against: the cycle, the agency and every row's label."""
    agency = request.agency
    ws = meta_keys(request, code, FORM_VERSION)
    row = META_ROWS
    items = [("indicator", i) for i in agency.indicators]
    for kind, item in items + [("task_group", g) for g in agency.task_groups]:
        for column, value in zip("ABC", (kind, item.code, item.name), strict=True):
            put(ws, f"{column}{row}", value)
        row += 1
    return ws


def signature_sheet(token: str, style: Style) -> Sheet:
    """The very hidden sheet with the form's signed token (``reporting.form_binding``)."""
    ws = Sheet(SIGNATURE, {"A": 80}, state="veryHidden")
    ws.set("A1", token, style)
    return ws
