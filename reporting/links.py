"""Personal links: signed, expiring, scoped to one request (one agency in one cycle)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Sequence
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


def _signed_with(payload: str, signature: str, secret: str) -> bool:
    expected = _signature(payload, secret).encode()
    return hmac.compare_digest(signature.encode(), expected)


def make_token(claims: LinkClaims, secret: str) -> str:
    payload = _b64(
        json.dumps(
            {"r": claims.request_id, "v": claims.link_version, "e": claims.expires_on.isoformat()},
            separators=(",", ":"),
        ).encode()
    )
    return f"{payload}.{_signature(payload, secret)}"


def link_secrets(settings: WebFormSettings) -> list[str]:
    """The keys a link may be signed with: the current one, then the previous ones (rotation)."""
    return [settings.link_secret.get_secret_value()] + [
        secret.get_secret_value() for secret in settings.previous_link_secrets
    ]


def read_token(
    token: str, secret: str | Sequence[str], *, today: dt.date | None
) -> LinkClaims:
    """The claims of a valid token; LinkError if tampered with or expired (``today`` None: the
    caller checks ``expires_on`` itself, on its programme's day). ``secret`` may be several
    keys (:func:`link_secrets`): a link signed with any of them is valid until it expires."""
    payload, _, signature = token.partition(".")
    keys = [secret] if isinstance(secret, str) else list(secret)
    if not payload or not any(_signed_with(payload, signature, key) for key in keys):
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
    request_id: int, link_version: int, expires_on: dt.date, settings: WebFormSettings
) -> str:
    """The URL an agency opens to report for this request, valid to the end of ``expires_on``."""
    claims = LinkClaims(request_id, link_version, expires_on)
    token = make_token(claims, settings.link_secret.get_secret_value())
    return f"{settings.public_base_url}/bao-cao/{token}"
