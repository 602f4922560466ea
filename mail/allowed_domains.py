"""Which recipient domains may be mailed at all: the guard against mailing real people.

``R42_MAIL__ALLOWED_DOMAINS`` (empty: every domain) lists domains; a message with any recipient
outside them is refused before it is queued, so nothing reaches the outbox or a relay. The demo
and the tests set it to ``.example``. An entry ``vinhlong.gov.vn`` allows that domain and its
subdomains (``soyte.vinhlong.gov.vn``); an entry with a leading dot, ``.example``, allows only
its subdomains (``vinhlong.example``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from config.settings import get_settings

SETTING = "R42_MAIL__ALLOWED_DOMAINS"


class RecipientNotAllowed(ValueError):
    """A message names a recipient outside the allowed domains: it is not queued."""


def domain_allowed(address: str, allowed: Sequence[str]) -> bool:
    """Whether ``address`` is on one of the ``allowed`` domains (every domain if none)."""
    if not allowed:
        return True
    domain = address.rpartition("@")[2].lower().rstrip(".")
    for entry in allowed:
        if entry.startswith("."):
            if domain.endswith(entry):
                return True
        elif domain == entry or domain.endswith("." + entry):
            return True
    return False


def refused(addresses: Iterable[str], allowed: Sequence[str]) -> list[str]:
    """The ``addresses`` outside the ``allowed`` domains, in order, each once."""
    out: list[str] = []
    for address in addresses:
        if not domain_allowed(address, allowed) and address not in out:
            out.append(address)
    return out


def check_recipients(addresses: Iterable[str], allowed: Sequence[str] | None = None) -> None:
    """RecipientNotAllowed naming the addresses and the setting, if any is outside ``allowed``
    (default: the configured domains)."""
    allowed = get_settings().mail.allowed_domains if allowed is None else allowed
    outside = refused(addresses, allowed)
    if outside:
        raise RecipientNotAllowed(
            f"not queued: {', '.join(outside)} outside {SETTING}={','.join(allowed)}"
        )
