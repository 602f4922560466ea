"""What a report says, as a list of blocks every renderer walks: the DOCX
(``documents.content_docx``), the HTML (``templates/report/body.html.j2``), the Markdown artifact (``documents.content_markdown``)
and the XLSX annex (``documents.content_xlsx``).

The producers (``reporting.yearly_content``, ``documents.evaluation_content``) decide what is said
and in which words; a renderer only decides how a block looks. A table shown in the report and
detailed in the annex is one :class:`TableBlock`: its rows carry every cell, the report picks its
columns (``pick``) and the annex sheet its own (``AnnexSheet.pick``), so a row changed in the
content changes in every format.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from documents.letterhead import Header, Signature, issuer_name

Cell = str | int | float | Decimal | bool | None  # numbers stay numbers in the annex


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1
    centred: bool = False  # a centred title line in body size ('PHỤ LỤC')


@dataclass(frozen=True)
class Para:
    text: str
    lead: str | None = None  # bold, before the text: who said it
    bullet: bool = False
    italic: bool = False
    centred: bool = False


@dataclass(frozen=True)
class AnnexSheet:
    """How a table shows as a sheet of the annex: its name, heading, columns (name, width) and
    which cells of each row they hold (None: all, in order)."""

    name: str
    heading: str
    columns: Sequence[tuple[str, float]]
    pick: tuple[int, ...] | None = None


@dataclass(frozen=True)
class TableBlock:
    columns: list[str]  # the report's column names (one per picked cell)
    rows: list[list[Cell]]
    align: list[str]
    caption: str | None = None
    widths_cm: tuple[float, ...] | None = None  # fixed widths in the DOCX; None: fitted
    pick: tuple[int, ...] | None = None  # the cells the report shows (None: all)
    annex: AnnexSheet | None = None  # also (or only, see Content.annex) a sheet of the annex

    def cells(self, pick: tuple[int, ...] | None) -> list[list[Cell]]:
        """The rows with only the cells ``pick`` names (None: all of them)."""
        if pick is None:
            return [list(row) for row in self.rows]
        return [[row[n] for n in pick] for row in self.rows]

    def shown(self) -> list[list[Cell]]:
        """The rows as the report shows them."""
        return self.cells(self.pick)

    def text_rows(self) -> list[list[str]]:
        """The report's cells as text ('—' for a missing one)."""
        return [["—" if c is None else str(c) for c in row] for row in self.shown()]


@dataclass(frozen=True)
class Charts:
    """Chart images by key: 'overview', or an indicator code; ``grid`` lays several side by side."""

    keys: list[str]
    caption: str | None = None
    width_cm: float = 15.0
    grid: bool = False


@dataclass(frozen=True)
class PageBreak:
    pass


Block = Heading | Para | TableBlock | Charts | PageBreak


@dataclass
class Content:
    title: str  # 'BÁO CÁO'
    summary: str  # the summary line under it
    header: Header | None = None  # issuing body, number, place and date
    signature: Signature | None = None
    recipients: list[str] = field(default_factory=list)  # 'Nơi nhận:'
    issuer: str = ""  # 'Ủy ban nhân dân tỉnh Vĩnh Long': the file's author
    blocks: list[Block] = field(default_factory=list)
    appendix: list[Block] = field(default_factory=list)  # after the signature (chart pages)
    annex: list[TableBlock] = field(default_factory=list)  # the annex's sheets, in order
    annex_title: str = ""  # the workbook's title
    annex_reference: str = ""  # which report the annex goes with, above every sheet
    draft_note: str | None = None  # a draft's mark: when it was consolidated
    chart_names: dict[str, str] = field(default_factory=dict)  # key -> alt text, caption

    def frame(
        self,
        registry_document: dict,
        *,
        year: int,
        number: str | None = None,
        signer: str | None = None,
        day: dt.date | None = None,
    ) -> Content:
        """Set the letterhead, the recipients and the signature from a registry version's
        document: ``number``, ``day`` and ``signer`` stay blank in a draft. Returns self."""
        self.header = Header.from_registry(registry_document, number=number, day=day, year=year)
        self.signature = Signature.from_registry(registry_document["signer"], name=signer)
        self.recipients = list(registry_document["recipients"])
        self.issuer = issuer_name(registry_document)
        return self
