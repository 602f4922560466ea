"""Personal links: signed, expiring, scoped to one request (one agency in one cycle)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass

from config.settings import WebFormSettings


class LinkError(ValueError):
    """The token is malformed, tampered with or expired."""


@dataclass(frozen=True)
class LinkClaims:
    request_id: int
    link_version: int
    expires_on: dt.date


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: str, secret: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def make_token(claims: LinkClaims, secret: str) -> str:
    payload = _b64(
        json.dumps(
            {"r": claims.request_id, "v": claims.link_version, "e": claims.expires_on.isoformat()},
            separators=(",", ":"),
        ).encode()
    )
    return f"{payload}.{_signature(payload, secret)}"


def read_token(token: str, secret: str, *, today: dt.date | None) -> LinkClaims:
    """The claims of a valid token; LinkError if tampered with or expired (``today`` None: the
    caller checks ``expires_on`` itself, on its programme's day)."""
    payload, _, signature = token.partition(".")
    expected = _signature(payload, secret).encode()
    if not payload or not hmac.compare_digest(signature.encode(), expected):
        raise LinkError("bad signature")
    try:
        data = json.loads(_unb64(payload))
        claims = LinkClaims(int(data["r"]), int(data["v"]), dt.date.fromisoformat(data["e"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise LinkError(f"malformed token: {exc}") from None
    if today is not None and today > claims.expires_on:
        raise LinkError(f"expired on {claims.expires_on}")
    return claims


def request_link(
    request_id: int, link_version: int, issued_on: dt.date, settings: WebFormSettings
) -> str:
    """The URL an agency opens to report for this request."""
    claims = LinkClaims(
        request_id, link_version, issued_on + dt.timedelta(days=settings.link_valid_days)
    )
    token = make_token(claims, settings.link_secret.get_secret_value())
    return f"{settings.public_base_url}/bao-cao/{token}"
