"""Sign a PDF with PAdES (pyHanko): key from a PKCS#12 file or a PKCS#11 token, optional TSA.

Decree 30/2020 treats an electronic document as issued when the PDF carries the issuing body's
digital signature and its visible appearance (who signed, for which body, when) on the page.
The signing key comes from the settings (:class:`config.settings.SigningSettings`):

- ``pkcs12_file`` (+ ``pkcs12_password``): a .p12/.pfx file, as CAs issue them for servers;
- ``pkcs11_module`` (+ ``pkcs11_slot`` / ``pkcs11_token_label``, ``pkcs11_pin``,
  ``pkcs11_key_label``): a USB token or HSM, as Vietnamese signers hold their keys;

and a time-stamp from ``tsa_url`` (RFC 3161) when it is set. The visible signature is a text
box in the signature block (see :func:`documents.pdf_report.signature_place`), written in an
embedded TrueType font (Vietnamese glyphs; PDF/A wants fonts embedded), over the body's seal
image when ``seal_image`` is set.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner
from pyhanko.stamp import TextStampStyle

from config.signing_settings import SigningSettings
from documents.pdf_report import SignaturePlace
from documents.vietnamese import format_date

FIELD_NAME = "ChuKySo"  # the signature field of the report
STAMP_TEXT = "Người ký: %(person)s\nCơ quan: %(body)s\nThời gian ký: %(when)s\nChứng thư: %(cert)s"


class SigningError(RuntimeError):
    """The report could not be signed; the message names the setting or the token."""


@dataclass(frozen=True)
class Appearance:
    """What the visible signature says, and the signature's reason and location fields."""

    person: str  # the official who signs, e.g. "Trần Thị Bình"
    body: str  # the issuing body, e.g. "Ủy ban nhân dân tỉnh Vĩnh Long"
    reason: str  # e.g. "Ký ban hành Báo cáo số 215/BC-UBND"
    location: str  # e.g. "Vĩnh Long"
    timezone: str = "Asia/Ho_Chi_Minh"  # the time shown on the page is local time


def signing_time_text(moment: dt.datetime) -> str:
    """'07/12/2026 09:15:02 +07:00'."""
    offset = moment.strftime("%z")
    return f"{format_date(moment.date())} {moment:%H:%M:%S} {offset[:3]}:{offset[3:]}"


def _pkcs12_signer(settings: SigningSettings) -> signers.Signer:
    path = settings.pkcs12_file
    assert path is not None
    if not path.is_file():
        raise SigningError(f"R42_SIGNING__PKCS12_FILE: {path} does not exist")
    password = settings.pkcs12_password
    try:
        return signers.SimpleSigner.load_pkcs12_data(
            path.read_bytes(),
            other_certs=(),
            passphrase=password.get_secret_value().encode() if password else None,
        )
    except ValueError:
        raise SigningError(
            f"R42_SIGNING__PKCS12_FILE: cannot read the key in {path} "
            "(wrong R42_SIGNING__PKCS12_PASSWORD, or not a PKCS#12 file)"
        ) from None


@contextmanager
def _pkcs11_signer(settings: SigningSettings) -> Iterator[signers.Signer]:
    from pkcs11 import Attribute, ObjectClass, PKCS11Error
    from pyhanko.sign.pkcs11 import PKCS11Signer, TokenCriteria, open_pkcs11_session

    module = settings.pkcs11_module
    assert module is not None
    if not module.is_file():
        raise SigningError(f"R42_SIGNING__PKCS11_MODULE: {module} does not exist")
    pin = settings.pkcs11_pin.get_secret_value() if settings.pkcs11_pin else None
    token_label = settings.pkcs11_token_label
    criteria = TokenCriteria(label=token_label) if token_label else None
    try:
        session = open_pkcs11_session(
            str(module), slot_no=settings.pkcs11_slot, token_criteria=criteria, user_pin=pin
        )
    except (PKCS11Error, OSError, ValueError) as exc:  # no such slot/token, wrong PIN, bad library
        raise SigningError(
            f"R42_SIGNING__PKCS11_*: cannot open the token (slot {settings.pkcs11_slot}, "
            f"label {settings.pkcs11_token_label}): {type(exc).__name__} {exc}".rstrip()
        ) from None
    try:
        label = settings.pkcs11_key_label
        if label:
            signer = PKCS11Signer(session, cert_label=label, key_label=label)
            try:
                signer.signing_cert  # read from the token now: a wrong label is named here
            except PKCS11Error as exc:
                raise SigningError(f"R42_SIGNING__PKCS11_KEY_LABEL: {exc}") from None
            yield signer
            return
        certificates = list(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}))
        if len(certificates) != 1:
            labels = ", ".join(repr(c[Attribute.LABEL]) for c in certificates) or "none"
            raise SigningError(
                f"the token holds {len(certificates)} certificates ({labels}): "
                "set R42_SIGNING__PKCS11_KEY_LABEL to the signer's"
            )
        key_id = certificates[0][Attribute.ID]
        yield PKCS11Signer(session, cert_id=key_id, key_id=key_id)
    finally:
        session.close()


@contextmanager
def open_signer(settings: SigningSettings) -> Iterator[signers.Signer | None]:
    """The signer the settings name (a token's session stays open inside the block), or None
    when no key is configured: the report is then sent unsigned."""
    if settings.pkcs12_file:
        yield _pkcs12_signer(settings)
    elif settings.pkcs11_module:
        with _pkcs11_signer(settings) as signer:
            yield signer
    else:
        yield None


def stamp_font(source: Path, folder: Path) -> Path:
    """``source`` rescaled to 1000 units per em, in ``folder``: pyHanko writes glyph widths in
    font units where PDF wants thousandths of an em, so a TrueType font of 2048 units per em
    (Liberation, DejaVu) comes out with its letters twice as far apart."""
    if not source.is_file():
        raise SigningError(
            f"R42_SIGNING__STAMP_FONT: {source} does not exist "
            "(Debian fonts-liberation2 has the default)"
        )
    font = TTFont(source)
    if font["head"].unitsPerEm != 1000:
        scale_upem(font, 1000)
    target = folder / "stamp-font.ttf"
    font.save(target)
    return target


def _stamp_style(settings: SigningSettings, font: Path) -> TextStampStyle:
    background = None
    if settings.seal_image:
        if not settings.seal_image.is_file():
            raise SigningError(f"R42_SIGNING__SEAL_IMAGE: {settings.seal_image} does not exist")
        from PIL import Image

        background = PdfImage(Image.open(settings.seal_image))
    return TextStampStyle(
        stamp_text=STAMP_TEXT,
        text_box_style=TextBoxStyle(
            font=GlyphAccumulatorFactory(str(font)), font_size=9, leading=12
        ),
        border_width=1,
        border_color=(0.75, 0.0, 0.0),
        background=background,
        background_opacity=0.5,
    )


def _timestamper(settings: SigningSettings):  # type: ignore[no-untyped-def]
    if not settings.tsa_url:
        return None
    from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

    return RequestsHTTPTimeStamper(settings.tsa_url, timeout=30)


def subject_name(signer: signers.Signer) -> str:
    """The certificate's common name (or its whole subject when it has none)."""
    subject = signer.signing_cert.subject
    return subject.native.get("common_name") or subject.human_friendly


def sign_pdf(
    pdf: bytes,
    *,
    signer: signers.Signer,
    place: SignaturePlace,
    appearance: Appearance,
    settings: SigningSettings,
) -> bytes:
    """``pdf`` with a PAdES signature whose visible appearance fills ``place``."""
    with tempfile.TemporaryDirectory(prefix="r42-sign-") as folder:
        font = stamp_font(settings.stamp_font, Path(folder))
        return _sign(pdf, signer, place, appearance, settings, _stamp_style(settings, font))


def _sign(
    pdf: bytes,
    signer: signers.Signer,
    place: SignaturePlace,
    appearance: Appearance,
    settings: SigningSettings,
    style: TextStampStyle,
) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    meta = PdfSignatureMetadata(
        field_name=FIELD_NAME,
        reason=appearance.reason,
        location=appearance.location,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    pdf_signer = PdfSigner(
        meta,
        signer,
        timestamper=_timestamper(settings),
        stamp_style=style,
        new_field_spec=fields.SigFieldSpec(FIELD_NAME, on_page=place.page, box=place.box),
    )
    now = dt.datetime.now(ZoneInfo(appearance.timezone)).replace(microsecond=0)
    text = {
        "person": appearance.person,
        "body": appearance.body,
        "when": signing_time_text(now),
        "cert": subject_name(signer),
    }
    output = BytesIO()
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)  # "FFTM NOT subset"
    try:
        pdf_signer.sign_pdf(writer, output=output, appearance_text_params=text)
    except Exception as exc:  # pyHanko, the token or the TSA: say which step failed
        where = f" (time-stamp from {settings.tsa_url})" if settings.tsa_url else ""
        raise SigningError(f"signing the report failed{where}: {type(exc).__name__}: {exc}")
    return output.getvalue()
