import datetime as dt

import pytest
from pydantic import SecretStr

from config.settings import WebFormSettings
from reporting.links import LinkClaims, LinkError, make_token, read_token, request_link

SECRET = "test-secret"


def test_a_token_round_trips_until_it_expires():
    claims = LinkClaims(request_id=42, link_version=1, expires_on=dt.date(2027, 3, 1))
    token = make_token(claims, SECRET)
    assert read_token(token, SECRET, today=dt.date(2027, 3, 1)) == claims
    with pytest.raises(LinkError, match="expired"):
        read_token(token, SECRET, today=dt.date(2027, 3, 2))


def test_tampered_or_foreign_tokens_are_refused():
    token = make_token(LinkClaims(42, 1, dt.date(2027, 3, 1)), SECRET)
    other = make_token(LinkClaims(43, 1, dt.date(2027, 3, 1)), SECRET)
    forged = other.split(".")[0] + "." + token.split(".")[1]
    for bad in [forged, token[:-2], "", "abc.def", token.replace(".", "")]:
        with pytest.raises(LinkError):
            read_token(bad, SECRET, today=dt.date(2026, 12, 1))
    with pytest.raises(LinkError):
        read_token(token, "another-secret", today=dt.date(2026, 12, 1))


def test_request_link_uses_the_public_base_url():
    settings = WebFormSettings(
        public_base_url="https://baocao.example/", link_secret=SecretStr("k"), link_valid_days=10
    )
    url = request_link(7, 2, dt.date(2026, 11, 12), settings)
    assert url.startswith("https://baocao.example/bao-cao/")
    claims = read_token(url.rsplit("/", 1)[1], "k", today=dt.date(2026, 11, 12))
    assert claims == LinkClaims(7, 2, dt.date(2026, 11, 12))


def test_non_ascii_tokens_are_refused_not_crashed():
    with pytest.raises(LinkError):
        read_token("abc.đ", SECRET, today=dt.date(2026, 12, 1))
