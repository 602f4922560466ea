"""The approved report as the ministry receives it: a PDF of the Decree 30 DOCX, signed.

Decree 30/2020 treats an electronic document as issued when it is a PDF carrying the issuing
body's digital signature with its visible appearance. On approval the DOCX is converted
(LibreOffice, PDF/A-2b) and signed (PAdES, :mod:`documents.signing`) with the key the
``R42_SIGNING__*`` settings name, the visible signature in the signature block above the
signer's name. Without a key the PDF is still made, unsigned, and says so in its status.

A re-run (the flow resumed after a failed delivery) reuses the PDF already written from the
same DOCX (its SHA-256 kept in a hidden folder beside it) while it is intact and signed as
configured: the file on disk stays the file that was sent. A revision approved again under the
same number has another DOCX, so it gets a new PDF.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from config.settings import Settings
from documents.decree30 import issuer_name
from documents.pdf_report import docx_to_pdf, signature_place
from documents.signature_check import check_signatures
from documents.signing import Appearance, open_signer, sign_pdf, subject_name
from mail.compose import Attachment
from models.orm import Report
from reporting.report_files import ReportFiles

PDF_TYPE = "application/pdf"
UNSIGNED = (
    "unsigned: no signing key is configured (R42_SIGNING__PKCS12_FILE or "
    "R42_SIGNING__PKCS11_MODULE)"
)


@dataclass(frozen=True)
class ReportPdf:
    """The report's PDF and what its signature is (``signed_by`` None: unsigned)."""

    pdf: bytes
    signed_by: str | None
    status: str  # for the run's log and artifact: "signed by ..." or why it is unsigned

    def attachment(self, title: str) -> Attachment:
        """The PDF for the email to the ministry, named like the DOCX."""
        return Attachment(f"{title}.pdf", self.pdf, PDF_TYPE)


def _source_file(path: Path) -> Path:
    """Where the SHA-256 of the DOCX a PDF was made from is kept (out of the report files)."""
    return path.parent / ".pdf-sources" / f"{path.name}.docx-sha256"


def _reusable(path: Path, docx: bytes, settings: Settings) -> ReportPdf | None:
    """The PDF written earlier from ``docx``, if it is intact and signed as configured."""
    source = _source_file(path)
    if not path.is_file() or not source.is_file():
        return None
    if source.read_text().strip() != hashlib.sha256(docx).hexdigest():
        return None
    data = path.read_bytes()
    checks = check_signatures(data)
    if not checks:
        return None if settings.signing.enabled else ReportPdf(data, None, UNSIGNED)
    if any(check.changed for check in checks):
        return None
    return ReportPdf(data, checks[-1].signer, f"signed by {checks[-1].signer} (written earlier)")


def official_pdf(report: Report, files: ReportFiles, *, settings: Settings) -> ReportPdf:
    """The approved revision's DOCX as a PDF, signed when a key is configured."""
    if not report.number or not report.signer:
        raise ValueError(f"report revision {report.revision} has no number or signer")
    signing = settings.signing
    pdf = docx_to_pdf(
        files.docx,
        soffice=signing.soffice,
        pdfa=signing.pdfa,
        timeout=signing.convert_timeout_seconds,
    )
    document = report.cycle.registry_version.document
    with open_signer(signing) as signer:
        if signer is None:
            return ReportPdf(pdf, None, UNSIGNED)
        appearance = Appearance(
            person=report.signer,
            body=issuer_name(document),
            reason=f"Ký ban hành Báo cáo số {report.number}",
            location=document["place"],
            timezone=report.cycle.programme.timezone,
        )
        place = signature_place(pdf, report.signer)
        signed = sign_pdf(pdf, signer=signer, place=place, appearance=appearance, settings=signing)
        name = subject_name(signer)
    where = f"page {place.page + 1}" + (", time-stamped" if signing.tsa_url else "")
    return ReportPdf(signed, name, f"signed by {name} (PAdES, {where})")


def write_official_pdf(
    report: Report, files: ReportFiles, folder: Path, *, settings: Settings
) -> tuple[ReportPdf, Path]:
    """:func:`official_pdf` written beside the DOCX (``<stem>.pdf``), or the one already there."""
    path = folder / f"{files.stem}.pdf"
    found = _reusable(path, files.docx, settings)
    if found is not None:
        return found, path
    made = official_pdf(report, files, settings=settings)
    folder.mkdir(parents=True, exist_ok=True)
    path.write_bytes(made.pdf)
    source = _source_file(path)
    source.parent.mkdir(exist_ok=True)
    source.write_text(hashlib.sha256(files.docx).hexdigest() + "\n")
    return made, path


def describe_pdf(path: Path) -> dict:
    """The written PDF's signature checked again, for the run's log (``status``, English) and
    the coordinators' artifact (``label``, Vietnamese); ``signed`` False when unsigned."""
    checks = check_signatures(path.read_bytes())
    if not checks:
        return {"signed": False, "status": UNSIGNED, "label": "CHƯA KÝ SỐ (chưa cấu hình khóa ký)"}
    last = checks[-1]
    ok = not last.changed and last.valid
    status = f"signed by {last.signer}; " + ("intact" if ok else "BROKEN or changed after signing")
    label = f"đã ký số ({last.signer})" if ok else "CHỮ KÝ SỐ KHÔNG HỢP LỆ"
    return {"signed": ok, "status": status, "label": label}
