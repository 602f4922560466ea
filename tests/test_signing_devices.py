"""Signing the report with a real PKCS#11 token (SoftHSM2, key imported over PKCS#11) and with
a time-stamp from an RFC 3161 authority reached over HTTP (served in-process)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr

from config.signing_settings import SigningSettings
from documents.signature_check import check_signatures
from documents.signing import SigningError
from tests.signing_support import (  # noqa: F401  (fixtures)
    PASSWORD,
    SOFTHSM,
    approved,
    asn1_cert,
    pki,
    sign_report,
    softhsm_token,
    time_stamp_authority,
    validate,
)


def test_tsa_url_adds_a_time_stamp_token_from_the_authority(approved, pki):
    with time_stamp_authority(pki) as (url, requests):
        signing = SigningSettings(pkcs12_file=pki["p12"], pkcs12_password=PASSWORD, tsa_url=url)
        made = sign_report(approved, signing)
    assert requests, "the TSA was never asked"
    status = validate(made.pdf, pki)
    assert status.bottom_line and status.timestamp_validity is not None
    token = status.timestamp_validity
    assert token.intact and token.valid and token.trusted
    (check,) = check_signatures(made.pdf, trust_roots=[asn1_cert(pki["ca"])])
    assert check.timestamp is not None and check.timestamp_valid and not check.changed
    assert "time-stamped" in made.status


def test_a_tsa_that_does_not_answer_fails_the_signing_naming_it(approved, pki):
    signing = SigningSettings(
        pkcs12_file=pki["p12"], pkcs12_password=PASSWORD, tsa_url="http://127.0.0.1:9/tsa"
    )
    with pytest.raises(SigningError, match=r"time-stamp from http://127\.0\.0\.1:9/tsa"):
        sign_report(approved, signing)


def test_a_pkcs11_token_signs_the_report(approved, pki, softhsm_token, tmp_path):
    signing = SigningSettings(
        pkcs11_module=Path(SOFTHSM), pkcs11_token_label=softhsm_token, pkcs11_pin="123456"
    )  # no key label: the token's only certificate
    made = sign_report(approved, signing)
    status = validate(made.pdf, pki)
    assert status.intact and status.valid and status.trusted and status.bottom_line
    path = tmp_path / "token.pdf"
    path.write_bytes(made.pdf)
    pdfsig = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert "Signature is Valid." in pdfsig and "Ủy ban nhân dân tỉnh Vĩnh Long" in pdfsig

    wrong_pin = signing.model_copy(update={"pkcs11_pin": SecretStr("000000")})
    with pytest.raises(SigningError, match=r"cannot open the token .*PinIncorrect"):
        sign_report(approved, wrong_pin)
    no_such_key = signing.model_copy(update={"pkcs11_key_label": "khong-co"})
    with pytest.raises(SigningError, match="PKCS11_KEY_LABEL: .*certificate with label 'khong-co'"):
        sign_report(approved, no_such_key)
