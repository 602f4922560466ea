"""The approved report as a signed PDF: LibreOffice's PDF/A, PAdES with pyHanko from a PKCS#12
file, the visible signature in the signature block, the email's attachments, and
`r42 verify-report` on intact and modified files (tokens and time-stamps:
tests/test_signing_devices.py).

Certificates are made here (documents/certificates.py); pyHanko's own validator, poppler's
`pdfsig` and the page rendered by `pdftoppm` check the result."""

from __future__ import annotations

import email
import email.policy
import re
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from pydantic import ValidationError
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko.stamp import TextStamp, TextStampStyle

from cli.main import main as r42
from config.settings import Settings
from config.signing_settings import SigningSettings
from documents.pdf_report import signature_place
from documents.signature_check import check_signatures
from documents.signing import SigningError
from models.cycles import get_cycle
from models.database import session_scope
from models.reports import latest_report
from reporting.report_pdf import write_official_pdf
from tests.report_data import SIGNER
from tests.servers import require_programs
from tests.signing_support import (  # noqa: F401  (fixtures)
    PASSWORD,
    SOFTHSM,
    approved,
    pki,
    sign_report,
    validate,
)

FINAL = Path("reports/vinh-long-r42/2026/bao-cao-2026-215-BC-UBND.pdf")


def ink(pdf: bytes, page: int, box: tuple[int, int, int, int], folder: Path) -> int:
    """Inked pixels inside ``box`` (PDF points, origin bottom left) of ``page`` at 72 dpi."""
    source = folder / "page.pdf"
    source.write_bytes(pdf)
    height = 842
    x1, y1, x2, y2 = box
    out = subprocess.run(
        ["pdftoppm", "-f", str(page + 1), "-l", str(page + 1), "-r", "72", "-gray",
         "-x", str(x1), "-y", str(height - y2), "-W", str(x2 - x1), "-H", str(y2 - y1),
         str(source)],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    header_end = out.index(b"255\n") + 4  # binary PGM: P5, size, maxval, then the pixels
    return sum(1 for value in out[header_end:] if value < 200)


def test_without_signing_settings_the_pdf_is_made_unsigned_and_sent_with_docx_and_annex(
    built, capsys
):
    require_programs("pdfinfo", "pdffonts")
    pdf_path = built.folder / FINAL
    pdf = pdf_path.read_bytes()
    assert check_signatures(pdf) == []
    meta = subprocess.run(["pdfinfo", "-meta", str(pdf_path)], capture_output=True, text=True)
    assert "<pdfaid:part>2</pdfaid:part>" in meta.stdout  # PDF/A-2b
    assert re.search(r"<pdfaid:conformance>B</pdfaid:conformance>", meta.stdout)
    fonts = subprocess.run(["pdffonts", str(pdf_path)], capture_output=True, text=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes " in row for row in rows), fonts  # every font embedded
    assert all("LiberationSerif" in row for row in rows)
    message = email.message_from_bytes(built.email, policy=email.policy.default)
    attached = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    title = "Báo cáo số 215-BC-UBND năm 2026"
    assert set(attached) == {f"{title}.pdf", f"{title}.docx", f"Phụ lục - {title}.xlsx"}
    assert attached[f"{title}.pdf"] == pdf
    assert "tệp PDF, chưa ký số" in message.get_body(("plain",)).get_content()
    assert r42(["verify-report", str(pdf_path)]) == 1
    assert "NOT SIGNED" in capsys.readouterr().out


def test_pkcs12_signature_is_valid_visible_in_the_signature_block_and_checked_by_pdfsig(
    approved, pki, tmp_path, capsys
):
    require_programs("pdfsig", "pdftoppm", "pdftotext")
    signing = SigningSettings(pkcs12_file=pki["p12"], pkcs12_password=PASSWORD)
    made = sign_report(approved, signing)
    assert made.signed_by == "Ủy ban nhân dân tỉnh Vĩnh Long"
    status = validate(made.pdf, pki)
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.signing_cert.subject.native["common_name"] == "Ủy ban nhân dân tỉnh Vĩnh Long"

    # The widget sits between "PHÓ CHỦ TỊCH" and the signer's name, on the page that has them.
    unsigned = approved.folder / FINAL
    place = signature_place(unsigned.read_bytes(), SIGNER)
    reader = PdfFileReader(BytesIO(made.pdf))
    field = reader.embedded_signatures[0].sig_field
    assert [round(float(v)) for v in field["/Rect"]] == list(place.box)
    kids = reader.root["/Pages"]["/Kids"]
    assert field.raw_get("/P").idnum == kids.raw_get(place.page).idnum
    number = str(place.page + 1)
    page_text = subprocess.run(
        ["pdftotext", "-f", number, "-l", number, "-layout", str(unsigned), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "PHÓ CHỦ TỊCH" in page_text and SIGNER in page_text and "Nơi nhận:" in page_text
    # Drawn: the box was blank before signing and carries the appearance after.
    assert ink(unsigned.read_bytes(), place.page, place.box, tmp_path) == 0
    assert ink(made.pdf, place.page, place.box, tmp_path) > 300

    signed_path = tmp_path / "signed.pdf"
    signed_path.write_bytes(made.pdf)
    pdfsig = subprocess.run(["pdfsig", str(signed_path)], capture_output=True, text=True)
    meta = subprocess.run(["pdfinfo", "-meta", str(signed_path)], capture_output=True, text=True)
    assert re.search(r'pdfaid:part(="|>)2', meta.stdout)  # still PDF/A-2 after signing
    assert "Signature is Valid." in pdfsig.stdout and "Total document signed" in pdfsig.stdout

    assert r42(["verify-report", str(signed_path), "--trust", str(pki["ca_file"])]) == 0
    out = capsys.readouterr().out
    assert "signer: Common Name: Ủy ban nhân dân tỉnh Vĩnh Long" in out
    assert "integrity: intact" in out and "changed since signing: no" in out
    assert "certificate trusted: yes" in out and re.search(r"signing time: 20\d\d-.*\+07:00", out)


def test_a_pdf_changed_after_signing_is_reported_changed(approved, pki, tmp_path, capsys):
    signing = SigningSettings(pkcs12_file=pki["p12"], pkcs12_password=PASSWORD)
    signed = sign_report(approved, signing).pdf

    # An incremental update that writes on the first page: the signed bytes are intact.
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    TextStamp(writer, TextStampStyle(stamp_text="SỬA SỐ LIỆU")).apply(0, 100, 400)
    appended = BytesIO()
    writer.write(appended)
    (check,) = check_signatures(appended.getvalue())
    assert check.intact and check.changed and check.modification == "other"
    path = tmp_path / "appended.pdf"
    path.write_bytes(appended.getvalue())
    assert r42(["verify-report", str(path)]) == 1
    out = capsys.readouterr().out
    assert "YES, the file was modified after signing" in out and "NOT VALID" in out

    # A byte changed inside the signed range: the digest no longer matches.
    at = signed.index(b"LibreOffice")
    altered = signed[:at] + b"M" + signed[at + 1 :]
    (check,) = check_signatures(altered)
    assert not check.intact and check.changed
    path.write_bytes(altered)
    assert r42(["verify-report", str(path)]) == 1
    assert "BROKEN" in capsys.readouterr().out


def test_signing_settings_refuse_two_key_sources_and_a_wrong_password(approved, pki):
    with pytest.raises(ValidationError, match="set pkcs12_file or pkcs11_module, not both"):
        SigningSettings(pkcs12_file=pki["p12"], pkcs11_module=Path(SOFTHSM))
    with pytest.raises(ValidationError, match="tsa_url must start with http"):
        SigningSettings(tsa_url="tsa.example")
    wrong = SigningSettings(pkcs12_file=pki["p12"], pkcs12_password="sai")
    with pytest.raises(SigningError, match="R42_SIGNING__PKCS12_PASSWORD"):
        sign_report(approved, wrong)
    missing = SigningSettings(pkcs12_file=pki["p12"].with_name("none.p12"))
    with pytest.raises(SigningError, match="R42_SIGNING__PKCS12_FILE: .*none.p12 does not exist"):
        sign_report(approved, missing)


def test_a_rerun_reuses_the_pdf_written_from_the_same_docx(approved, pki, tmp_path):
    settings = Settings(signing=SigningSettings(pkcs12_file=pki["p12"], pkcs12_password=PASSWORD))
    with session_scope() as session:
        report = latest_report(get_cycle("vinh-long-r42", 2026, session=session), session=session)
        first, path = write_official_pdf(report, approved.final, tmp_path, settings=settings)
        again, _ = write_official_pdf(report, approved.final, tmp_path, settings=settings)
        assert again.pdf == first.pdf == path.read_bytes()  # the file sent stays on disk
        assert "Ủy ban nhân dân tỉnh Vĩnh Long" in again.signed_by
        source = tmp_path / ".pdf-sources" / f"{path.name}.docx-sha256"
        source.write_text("0" * 64)  # written from another DOCX: made and signed again
        remade, _ = write_official_pdf(report, approved.final, tmp_path, settings=settings)
        assert remade.pdf != first.pdf and path.read_bytes() == remade.pdf
        (check,) = check_signatures(remade.pdf)
        assert check.intact and not check.changed


def test_the_seal_image_is_drawn_under_the_visible_signature(approved, pki, tmp_path):
    from PIL import Image, ImageDraw

    seal = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    ImageDraw.Draw(seal).ellipse((10, 10, 390, 390), outline=(200, 0, 0, 255), width=30)
    seal.save(tmp_path / "seal.png")
    plain = SigningSettings(pkcs12_file=pki["p12"], pkcs12_password=PASSWORD)
    sealed = plain.model_copy(update={"seal_image": tmp_path / "seal.png"})
    place = signature_place((approved.folder / FINAL).read_bytes(), SIGNER)
    without = ink(sign_report(approved, plain).pdf, place.page, place.box, tmp_path)
    made = sign_report(approved, sealed)
    assert ink(made.pdf, place.page, place.box, tmp_path) > without + 200
    assert validate(made.pdf, pki).bottom_line
    missing = plain.model_copy(update={"seal_image": tmp_path / "none.png"})
    with pytest.raises(SigningError, match="R42_SIGNING__SEAL_IMAGE: .*none.png does not exist"):
        sign_report(approved, missing)
