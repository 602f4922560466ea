"""Check the signatures of a report PDF with pyHanko's validator: who signed, when, whether the
signed bytes are intact, and whether the file changed after signing.

Two kinds of change are told apart: bytes altered inside the signed range break the digest
(``intact`` is False); content appended after signing (an incremental update: an edited page,
a new annotation) leaves the digest intact, and pyHanko's difference analysis says what it did
(``modification``). Only time-stamp and validation-data updates (PAdES-LTA) count as unchanged.
Whether the signer is trusted depends on the roots given: a Vietnamese CA's chain is not in
the system's trust store, so ops pass the root (e.g. the national root CA) with ``--trust``.
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from asn1crypto import pem, x509
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import ModificationLevel, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

UNCHANGED_LEVELS = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)


class NotAPdf(ValueError):
    """The file is not a PDF pyHanko can read."""


@dataclass(frozen=True)
class SignatureCheck:
    """One signature of the file, as the validator saw it."""

    field: str
    signer: str  # the certificate's subject
    signed_at: dt.datetime | None  # the time the signer's software wrote
    timestamp: dt.datetime | None  # the TSA's time, when the signature has a time-stamp token
    timestamp_valid: bool | None  # None: no time-stamp
    intact: bool  # the signed bytes hash to the signed digest
    valid: bool  # the cryptographic signature over that digest verifies
    trusted: bool  # the certificate chains to one of the trust roots given
    whole_file: bool  # the signature covers every byte of the file
    modification: str  # pyHanko's level of the changes after signing: none, form_filling, other...

    @property
    def changed(self) -> bool:
        """True when the file is not the one signed (beyond time-stamps and validation data)."""
        if not self.intact:
            return True
        return not self.whole_file and self.modification not in {
            level.name.lower() for level in UNCHANGED_LEVELS
        }

    def lines(self, timezone: str = "Asia/Ho_Chi_Minh") -> list[str]:
        """What ``r42 verify-report`` prints for this signature (times in ``timezone``)."""

        def local(moment: dt.datetime) -> str:
            return moment.astimezone(ZoneInfo(timezone)).isoformat()

        stamp = "none"
        if self.timestamp is not None:
            stamp = f"{local(self.timestamp)} ({'valid' if self.timestamp_valid else 'INVALID'})"
        integrity = "intact" if self.intact and self.valid else "BROKEN: the signed bytes differ"
        changed = (
            "YES, the file was modified after signing"
            if self.changed
            else "no"
            if self.whole_file
            else f"no (later updates: {self.modification})"
        )
        return [
            f"signature field: {self.field}",
            f"  signer: {self.signer}",
            f"  signing time: {local(self.signed_at) if self.signed_at else 'not stated'}",
            f"  time-stamp: {stamp}",
            f"  integrity: {integrity}",
            f"  changed since signing: {changed}",
            "  certificate trusted: "
            + ("yes" if self.trusted else "no (pass its root CA with --trust)"),
        ]


def load_certificates(paths: list[Path]) -> list[x509.Certificate]:
    """Certificates from PEM or DER files (trust roots)."""
    found = []
    for path in paths:
        data = path.read_bytes()
        if pem.detect(data):
            found.extend(
                x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)
            )
        else:
            found.append(x509.Certificate.load(data))
    return found


@contextmanager
def _quiet_validator():
    """pyHanko logs a traceback for every chain it cannot build (any signer not under a given
    root): the verdict is in the result, so its loggers are quietened while it validates."""
    loggers = [logging.getLogger(name) for name in ("pyhanko", "pyhanko_certvalidator")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def check_signatures(
    pdf: bytes, *, trust_roots: tuple[x509.Certificate, ...] | list[x509.Certificate] = ()
) -> list[SignatureCheck]:
    """Every signature of ``pdf``, validated (no network: no revocation fetching)."""
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        embedded = reader.embedded_signatures
    except (PdfReadError, ValueError, KeyError) as exc:
        raise NotAPdf(f"not a readable PDF: {exc}") from None
    with _quiet_validator():
        return [_check(signature, list(trust_roots)) for signature in embedded]


def _check(signature: EmbeddedPdfSignature, trust_roots: list[x509.Certificate]) -> SignatureCheck:
    context = ValidationContext(
        trust_roots=list(trust_roots), allow_fetching=False, revocation_mode="soft-fail"
    )
    try:
        status = validate_pdf_signature(signature, context)
    except SignatureValidationError as exc:
        return _unreadable(signature.field_name, str(exc))
    token = status.timestamp_validity
    level = status.modification_level
    return SignatureCheck(
        field=signature.field_name,
        signer=status.signing_cert.subject.human_friendly,
        signed_at=status.signer_reported_dt,
        timestamp=token.timestamp if token else None,
        timestamp_valid=(token.intact and token.valid) if token else None,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        modification=level.name.lower() if level is not None else "unknown",
    )


def _unreadable(field: str, why: str) -> SignatureCheck:
    return SignatureCheck(
        field=field,
        signer=f"unreadable signature ({why})",
        signed_at=None,
        timestamp=None,
        timestamp_valid=None,
        intact=False,
        valid=False,
        trusted=False,
        whole_file=False,
        modification="other",
    )
