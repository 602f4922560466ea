"""Flow parameters as the Prefect UI's Custom run form shows them: a Vietnamese title and help.

Prefect builds the form from each flow's signature; a pydantic ``Field`` as the default gives
the parameter its description and (through ``json_schema_extra``) its title, and Prefect
passes the field's default when the parameter is left out.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

# The kind of cycle a flow acts on: the yearly report, or the 2025 / 2030 reviews (a choice in
# the UI's form); reporting.cycle_kinds holds what differs between them.
Kind = Literal["annual", "midterm", "final"]


def asked(title: str, description: str, default: object = ...) -> object:
    """A parameter with its Vietnamese ``title`` and ``description``; no default: required."""
    return Field(default, description=description, json_schema_extra={"title": title})


YEAR = asked("Năm", "Năm của kỳ báo cáo, ví dụ 2026")
AGENCY = asked("Cơ quan", "Mã cơ quan báo cáo, ví dụ so-y-te (xem bảng trong artifact của kỳ)")
PROGRAMME = asked(
    "Chương trình", "Mã chương trình; để trống: chương trình mặc định của hệ thống", None
)
BY = asked("Người thực hiện", "Họ tên hoặc tài khoản, ghi vào nhật ký", "coordinator")
KIND = asked(
    "Loại kỳ", "annual: báo cáo năm; midterm: sơ kết 2025; final: tổng kết 2030", "annual"
)
