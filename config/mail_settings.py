"""Settings of email: outgoing (``R42_MAIL__*``: the relay or the outbox folder) and the
mailbox agencies reply to (``R42_INBOX__*``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from config import DATA_DIR

_DOMAIN_ENTRY = re.compile(r"\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")


class MailSettings(BaseModel):
    """How outgoing email leaves: a local outbox folder or an SMTP server."""

    transport: Literal["outbox", "smtp"] = Field(
        default="outbox", description="'outbox' writes .eml files to outbox_dir; 'smtp' sends."
    )
    outbox_dir: Path = Field(
        default=DATA_DIR / "outbox", description="Folder of .eml files for the outbox transport."
    )
    sender_address: str = Field(
        default="tonghop-nq42@vinhlong.example", description="From: address of every message."
    )
    sender_name: str = Field(
        default="Bộ phận tổng hợp Nghị quyết 42", description="From: display name (Vietnamese)."
    )
    message_id_domain: str = Field(
        default="r42.vinhlong.example", description="Domain of generated Message-ID headers."
    )
    allowed_domains: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Recipient domains that may be mailed, comma-separated (empty: all); "
        "'gov.vn' allows it and its subdomains, '.example' its subdomains only. The demo and "
        "the tests set '.example': a message to any other domain is refused before queueing.",
    )
    smtp_host: str = Field(default="localhost", description="SMTP server host name.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP server port.")
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        default="none", description="'starttls' upgrades a plain connection; 'tls' is implicit TLS."
    )
    smtp_ca_file: Path | None = Field(
        default=None,
        description="PEM bundle of the CA(s) that signed the relay's certificate (a private CA); "
        "used for the relay only, unlike SSL_CERT_FILE. Default: the system's CAs.",
    )
    smtp_username: str | None = Field(default=None, description="SMTP login user, if any.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP login password.")
    smtp_timeout: float = Field(
        default=30.0, gt=0, description="Seconds before an SMTP call times out."
    )
    smtp_connections: int = Field(
        default=8,
        ge=1,
        le=64,
        description="Reused SMTP connections of a sending process (8 sends a third faster than 4 "
        "through the outbox: benchmarks/README.md).",
    )
    smtp_processes: int = Field(
        default=1,
        ge=1,
        le=16,
        description="Processes sending at once, each with smtp_connections connections.",
    )
    max_attempts: int = Field(
        default=5, ge=1, le=50, description="Attempts on temporary failures before giving up."
    )
    retry_base_seconds: float = Field(
        default=2.0,
        gt=0,
        le=3600,
        description="Wait before retrying a temporary failure; doubles with each attempt.",
    )
    retry_wait_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="Longest a delivery run waits for retries before leaving them to the next run.",
    )
    claim_lease_seconds: int = Field(
        default=900,
        ge=1,
        le=86400,
        description="After this, a message claimed by a run that never recorded it is 'unknown'.",
    )
    claim_batch: int = Field(
        default=256,
        ge=1,
        le=1000,
        description="Messages a delivery run claims at a time (the next batch is claimed while "
        "one is sent; a crash leaves 'unknown' only the messages whose data had left).",
    )

    @field_validator("allowed_domains", mode="before")
    @classmethod
    def _domain_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not _DOMAIN_ENTRY.fullmatch(entry):
                raise ValueError(f"{entry!r} is not a domain (e.g. 'vinhlong.gov.vn', '.example')")
        return [entry.lower() for entry in value]

    @field_validator("smtp_ca_file")
    @classmethod
    def _ca_file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError("no such file (a PEM bundle of the relay's CA)")
        return value

    @field_validator("sender_address")
    @classmethod
    def _sender(cls, value: str) -> str:
        from email_validator import EmailNotValidError, validate_email

        if not value.isascii():
            raise ValueError("not plain ASCII (mail servers here refuse others)")
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValueError(f"not a valid address: {exc}") from None
        return value


class InboxSettings(BaseModel):
    """The mailbox agencies reply to with their filled form (IMAP); unset host: no inbox, and
    the emails keep saying "do not reply"."""

    host: str | None = Field(
        default=None, description="IMAP server host name; empty: replies are not read."
    )
    port: int = Field(
        default=993, ge=1, le=65535, description="IMAP port (993 for 'tls', 143 otherwise)."
    )
    security: Literal["none", "starttls", "tls"] = Field(
        default="tls",
        description="'tls' is implicit TLS, 'starttls' upgrades a plain connection; the "
        "certificate is checked against R42_MAIL__SMTP_CA_FILE when set (a private CA), else "
        "the system's CAs.",
    )
    user: str | None = Field(default=None, description="IMAP login user.")
    password: SecretStr | None = Field(default=None, description="IMAP login password.")
    folder: str = Field(default="INBOX", description="Folder the replies arrive in.")
    processed_folder: str = Field(
        default="R42-processed",
        description="Folder a read reply is moved to (created when missing).",
    )
    rejected_folder: str = Field(
        default="R42-rejected",
        description="Folder a reply that could not be used (no form, several forms, unknown "
        "request, .xls/.ods, damaged file) is moved to (created when missing).",
    )
    timeout: float = Field(default=30.0, gt=0, le=600, description="Seconds per IMAP call.")
    max_messages: int = Field(
        default=500, ge=1, le=10_000, description="Messages read by one run (the rest: next run)."
    )

    @property
    def enabled(self) -> bool:
        """True when a mailbox is configured."""
        return bool(self.host)
