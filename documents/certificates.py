"""Self-made certificates for the demo and the tests: a CA, a signer, a time-stamp authority,
a server (the tests' mail relay with TLS).

Never for a real report: a signature the ministry accepts needs a certificate from a licensed
Vietnamese CA (on a USB token, or as a PKCS#12 file). The demo's certificate says so in its
subject, so a reader of the signed PDF sees it is a demonstration.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEMO_SUBJECT = "UBND tỉnh Vĩnh Long (DEMO - không có giá trị pháp lý)"  # a CN: 64 at most


@dataclass(frozen=True)
class KeyPair:
    """A private key and its certificate."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str, organisation: str | None) -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if organisation:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    parts.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(parts)


def _host(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def make_certificate(
    common_name: str,
    *,
    organisation: str | None = None,
    issuer: KeyPair | None = None,
    role: str = "signer",  # "ca", "signer", "tsa" or "server"
    days: int = 3650,
    now: dt.datetime | None = None,
    hosts: tuple[str, ...] = (),  # a server's names or IP addresses
) -> KeyPair:
    """A 2048-bit RSA key and a certificate for ``role``, issued by ``issuer`` (None: itself)."""
    now = now or dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = _name(common_name, organisation)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(x509.BasicConstraints(ca=role == "ca", path_length=None), critical=True)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), False
        )
    usage = dict.fromkeys(
        (
            "digital_signature content_commitment key_encipherment data_encipherment "
            "key_agreement key_cert_sign crl_sign encipher_only decipher_only"
        ).split(),
        False,
    )
    if role == "ca":
        usage.update(key_cert_sign=True, crl_sign=True)
    else:
        usage.update(digital_signature=True, content_commitment=role == "signer")
        usage.update(key_encipherment=role == "server")
    builder = builder.add_extension(x509.KeyUsage(**usage), critical=True)
    purposes = {"tsa": ExtendedKeyUsageOID.TIME_STAMPING, "server": ExtendedKeyUsageOID.SERVER_AUTH}
    if role in purposes:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([purposes[role]]), critical=role == "tsa"
        )
    if hosts:
        names = x509.SubjectAlternativeName([_host(host) for host in hosts])
        builder = builder.add_extension(names, critical=False)
    certificate = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    return KeyPair(key, certificate)


def write_pkcs12(
    path: Path, pair: KeyPair, *, password: str, chain: tuple[KeyPair, ...] = ()
) -> Path:
    """``pair`` (and the certificates of ``chain``) as a password-protected PKCS#12 file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"signer",
            pair.key,
            pair.certificate,
            [c.certificate for c in chain] or None,
            serialization.BestAvailableEncryption(password.encode()),
        )
    )
    return path


def demo_signing_files(folder: Path, *, password: str) -> tuple[Path, Path]:
    """The demo's PKCS#12 file (a signer certificate whose subject says it is a demo, issued
    by a demo CA) and the demo CA's certificate (PEM, for ``r42 verify-report --trust``)."""
    ca = make_certificate("CA DEMO r42-reporting", organisation="DEMO", role="ca")
    signer = make_certificate(DEMO_SUBJECT, organisation="CHỨNG THƯ DEMO r42-reporting", issuer=ca)
    ca_file = folder / "demo-ca.pem"
    folder.mkdir(parents=True, exist_ok=True)
    ca_file.write_bytes(ca.pem())
    return write_pkcs12(folder / "demo-signer.p12", signer, password=password, chain=(ca,)), ca_file
