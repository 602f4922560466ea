"""The parts of a Vietnamese administrative document around its body (Decree 30/2020/NĐ-CP):
who issues it, its number, place and date, who signs it. Plain data, from a registry version's
document; :mod:`documents.decree30` lays them out in a DOCX, ``templates/report/body.html.j2``
in HTML."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from documents.vietnamese import format_long_date


def province_name(document: dict) -> str:
    """'tỉnh Vĩnh Long' from a registry document's province ('Vĩnh Long' or 'Tỉnh Vĩnh Long')."""
    province = document["province"].strip()
    for prefix in ("tỉnh ", "thành phố "):
        if province.lower().startswith(prefix):
            return prefix + province[len(prefix) :]
    return f"tỉnh {province}"


def issuer_name(document: dict) -> str:
    """'Ủy ban nhân dân tỉnh Vĩnh Long': the issuing body as the text names it."""
    return f"{document['issuing_body'].capitalize()} {province_name(document)}"


@dataclass(frozen=True)
class Header:
    """The header blocks: issuing body, number, place and date (None: left blank in a draft)."""

    issuing_body: Sequence[str]  # lines in capitals, e.g. ("ỦY BAN NHÂN DÂN", "TỈNH VĨNH LONG")
    symbol: str  # the part of the number after the slash, e.g. "BC-UBND"
    place: str  # "Vĩnh Long"
    number: str | None = None  # "215/BC-UBND"; None: "Số:      /BC-UBND"
    day: dt.date | None = None  # None: "ngày … tháng … năm <year>"
    year: int | None = None  # the year shown when ``day`` is blank
    parent_body: str | None = None  # cơ quan chủ quản, above the issuing body (not bold)

    @classmethod
    def from_registry(
        cls,
        document: dict,
        *,
        number: str | None,
        day: dt.date | None,
        year: int | None = None,
        kind: str = "BC",
    ) -> Header:
        """From a registry version's document (issuing_body, province, place...)."""
        return cls(
            issuing_body=(document["issuing_body"].upper(), province_name(document).upper()),
            symbol=f"{kind}-{document['issuing_body_short']}",
            place=document["place"],
            number=number,
            day=day,
            year=year if year is not None else (day.year if day else None),
        )

    @property
    def number_line(self) -> str:
        return f"Số: {self.number}" if self.number else f"Số:{' ' * 8}/{self.symbol}"

    @property
    def place_date_line(self) -> str:
        if self.day is not None:
            return f"{self.place}, {format_long_date(self.day)}"
        return f"{self.place}, ngày{' ' * 5}tháng{' ' * 5}năm {self.year or ''}".rstrip()


@dataclass(frozen=True)
class Signature:
    """The signature block: 'TM. ỦY BAN NHÂN DÂN' / 'KT. CHỦ TỊCH' / 'PHÓ CHỦ TỊCH' / name."""

    authority: str | None
    deputy: str | None
    title: str
    name: str | None  # None in a draft: the signer is named at approval

    @classmethod
    def from_registry(cls, signer: dict, *, name: str | None) -> Signature:
        return cls(signer.get("authority"), signer.get("deputy"), signer["title"], name)
