"""Settings that must not run outside the demo: a placeholder or short link secret, a password
that would cross the network in clear. :func:`config.settings.get_settings` refuses them, so the
portal, the flows and ``r42`` refuse to start, each problem on one line naming its setting."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

PLACEHOLDER_LINK_SECRET = "change-me-in-production-not-a-secret"
MIN_SECRET_BYTES = 32
MAKE_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


class UnsafeSettings(ValueError):
    """Settings refused at start-up; the message has one line per problem, naming the setting."""

    def __init__(self, problems: list[str]):
        super().__init__("refusing to start:\n" + "\n".join(f"  {p}" for p in problems))
        self.problems = problems


def validation_problems(errors: list[dict]) -> list[str]:
    """pydantic's errors of ``Settings()`` as one line each, named as ops set them:
    "R42_DATABASE__URL=nonsense://: unknown database type 'nonsense' (...)"."""
    problems = []
    for error in errors:
        path = [str(part) for part in error["loc"] if not isinstance(part, int)]
        name = "R42_" + "__".join(part.upper() for part in path)
        value = error.get("input")
        secret = any(word in name for word in ("SECRET", "PASSWORD"))
        shown = f"={value}" if isinstance(value, str | int | float) and not secret else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{name}{shown}: {message}")
    return problems


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def production_reasons(settings) -> list[str]:  # noqa: ANN001 (config.settings.Settings)
    """Why these settings are not the demo's (empty: the embedded demo set-up)."""
    reasons = []
    if settings.mail.transport == "smtp":
        reasons.append("R42_MAIL__TRANSPORT=smtp")
    if settings.database.url.startswith("postgresql"):
        reasons.append("a PostgreSQL database (R42_DATABASE__URL)")
    if not is_loopback(settings.web_form.public_base_url):
        reasons.append(f"R42_WEB_FORM__PUBLIC_BASE_URL={settings.web_form.public_base_url}")
    return reasons


def _secret_problem(name: str, value: str, why: str) -> str | None:
    if value == PLACEHOLDER_LINK_SECRET:
        return f"{name} is the placeholder from the source code ({why}): anyone can forge links; "
    size = len(value.encode())
    if size < MIN_SECRET_BYTES:
        return f"{name} is {size} bytes ({why}): it needs at least {MIN_SECRET_BYTES}; "
    return None


def certificate_file_problems(environ: Mapping[str, str] = os.environ) -> list[str]:
    """SSL_CERT_FILE / SSL_CERT_DIR (OpenSSL's, also read by Prefect's HTTP client) naming
    nothing: OpenSSL ignores a missing file and every TLS connection then fails to verify."""
    problems = []
    for name, wanted in (("SSL_CERT_FILE", Path.is_file), ("SSL_CERT_DIR", Path.is_dir)):
        value = environ.get(name)
        if value and not wanted(Path(value)):
            what = "file" if name == "SSL_CERT_FILE" else "folder"
            problems.append(
                f"{name}={value}: no such {what} (a typo?); unset it, or name the CA bundle "
                "(for the relay alone, R42_MAIL__SMTP_CA_FILE)"
            )
    return problems


def unsafe_settings(settings) -> list[str]:  # noqa: ANN001
    """One line per setting that must not be used as it is."""
    problems = certificate_file_problems()
    mail = settings.mail
    if mail.smtp_username and mail.smtp_security == "none":
        problems.append(
            "R42_MAIL__SMTP_USERNAME is set with R42_MAIL__SMTP_SECURITY=none: the password would "
            "cross the network in clear; set R42_MAIL__SMTP_SECURITY=starttls (port 587) or tls "
            "(port 465)"
        )
    inbox = getattr(settings, "inbox", None)
    if inbox is not None and inbox.enabled and inbox.user and inbox.security == "none":
        problems.append(
            "R42_INBOX__USER is set with R42_INBOX__SECURITY=none: the mailbox password would "
            "cross the network in clear; set R42_INBOX__SECURITY=tls (port 993) or starttls"
        )
    reasons = production_reasons(settings)
    if reasons:
        why = "outside the demo: " + ", ".join(reasons)
        make = f"make one with: {MAKE_SECRET}"
        form = settings.web_form
        secrets = [("R42_WEB_FORM__LINK_SECRET", form.link_secret.get_secret_value())]
        secrets += [
            (f"R42_WEB_FORM__PREVIOUS_LINK_SECRETS[{i}]", s.get_secret_value())
            for i, s in enumerate(form.previous_link_secrets)
        ]
        for name, value in secrets:
            problem = _secret_problem(name, value, why)
            if problem:
                problems.append(problem + make)
    return problems
