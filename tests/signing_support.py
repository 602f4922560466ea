"""What the signing tests share: certificates made here (a CA, the signer, a TSA), the approved
report of tests/report_data.py with its database open, pyHanko's validator trusting the test CA,
an RFC 3161 time-stamp authority served over HTTP in-process, and a SoftHSM2 token."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from config.settings import Settings, get_settings
from config.signing_settings import SigningSettings
from documents.certificates import KeyPair, make_certificate, write_pkcs12
from models.cycles import get_cycle
from models.database import reset_engines, session_scope
from models.reports import latest_report
from reporting.report_pdf import ReportPdf, official_pdf
from tests.servers import require_programs

SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
PASSWORD = "mật-khẩu-p12"


def asn1_cert(pair: KeyPair) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(pair.certificate.public_bytes(serialization.Encoding.DER))


def asn1_key(pair: KeyPair) -> asn1_keys.PrivateKeyInfo:
    der = pair.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return asn1_keys.PrivateKeyInfo.load(der)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A test CA, a signer for the provincial People's Committee, a TSA; the signer as PKCS#12."""
    folder = tmp_path_factory.mktemp("pki")
    ca = make_certificate("CA thử nghiệm", organisation="Kiểm thử", role="ca")
    signer = make_certificate("Ủy ban nhân dân tỉnh Vĩnh Long", organisation="UBND", issuer=ca)
    tsa = make_certificate("TSA thử nghiệm", organisation="Kiểm thử", issuer=ca, role="tsa")
    p12 = write_pkcs12(folder / "signer.p12", signer, password=PASSWORD, chain=(ca,))
    (folder / "ca.pem").write_bytes(ca.pem())
    return {"ca": ca, "signer": signer, "tsa": tsa, "p12": p12, "ca_file": folder / "ca.pem"}


@pytest.fixture(scope="module")
def approved(built):
    """The approved report's revision and files (tests/report_data.py), its database opened."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("R42_DATABASE__URL", f"sqlite:///{built.folder / 'r42.sqlite3'}")
        get_settings.cache_clear()
        reset_engines()
        try:
            yield built
        finally:
            get_settings.cache_clear()
            reset_engines()


def sign_report(built, signing: SigningSettings) -> ReportPdf:
    """The approved revision's PDF made and signed as the submission does it."""
    with session_scope() as session:
        report = latest_report(get_cycle("vinh-long-r42", 2026, session=session), session=session)
        return official_pdf(report, built.final, settings=Settings(signing=signing))


def validate(pdf: bytes, pki) -> object:
    """pyHanko's validator, trusting the test CA only, no network."""
    signature = PdfFileReader(BytesIO(pdf)).embedded_signatures[0]
    context = ValidationContext(trust_roots=[asn1_cert(pki["ca"])], allow_fetching=False)
    return validate_pdf_signature(signature, context)


class TimeStampHandler(BaseHTTPRequestHandler):
    """An RFC 3161 TSA over HTTP, answering with pyHanko's DummyTimeStamper."""

    stamper: DummyTimeStamper
    requests: list[int]

    def do_POST(self):  # noqa: N802
        request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
        body = self.stamper.request_tsa_response(request).dump()
        self.requests.append(len(body))
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def time_stamp_authority(pki):
    handler = type("Handler", (TimeStampHandler,), {"requests": []})
    handler.stamper = DummyTimeStamper(tsa_cert=asn1_cert(pki["tsa"]), tsa_key=asn1_key(pki["tsa"]))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa", handler.requests
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def softhsm_token(pki, tmp_path_factory):
    """A SoftHSM2 token holding the signer's key and certificate, imported over PKCS#11."""
    require_programs("softhsm2-util", SOFTHSM)
    import pkcs11
    from pkcs11 import Attribute, ObjectClass
    from pkcs11.util.rsa import decode_rsa_private_key
    from pkcs11.util.x509 import decode_x509_certificate

    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n")
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # read by the library when it is first loaded
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", "r42-token", "--pin", "123456",
         "--so-pin", "12345678"],
        check=True, capture_output=True,
    )  # fmt: skip
    signer: KeyPair = pki["signer"]
    key_der = signer.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    token = pkcs11.lib(SOFTHSM).get_token(token_label="r42-token")
    with token.open(rw=True, user_pin="123456") as session:
        common = {Attribute.TOKEN: True, Attribute.ID: b"\x01", Attribute.LABEL: "ky-so"}
        key = decode_rsa_private_key(key_der)
        key.update({**common, Attribute.SIGN: True, Attribute.PRIVATE: True})
        key[Attribute.CLASS] = ObjectClass.PRIVATE_KEY
        session.create_object(key)
        cert = decode_x509_certificate(signer.certificate.public_bytes(serialization.Encoding.DER))
        session.create_object({**cert, **common})
    yield "r42-token"
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous
