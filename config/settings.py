"""Application settings, one class per concern, read from the environment and ``.env``.

Every variable starts with ``R42_`` and nests with ``__``, e.g. ``R42_DATABASE__URL`` or
``R42_MAIL__SMTP_HOST``. The defaults are the embedded set-up: a SQLite file and a local
outbox folder under ``./data``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from config.startup_checks import (
    PLACEHOLDER_LINK_SECRET,
    UnsafeSettings,
    unsafe_settings,
    validation_problems,
)

DATA_DIR = Path("data")
_DOMAIN_ENTRY = re.compile(r"\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")


class DatabaseSettings(BaseModel):
    """Where the application's own data lives (not Prefect's)."""

    url: str = Field(
        default=f"sqlite:///{DATA_DIR / 'r42.sqlite3'}",
        description="SQLAlchemy URL; e.g. postgresql+psycopg://user:pass@host:5432/r42.",
    )
    echo: bool = Field(default=False, description="Log every SQL statement (debugging only).")
    pool_size: int = Field(default=5, ge=1, le=100, description="PostgreSQL connection pool size.")

    @field_validator("url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        example = "sqlite:///data/r42.sqlite3 or postgresql+psycopg://user:pass@host:5432/r42"
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"not a database URL (expected e.g. {example})") from None
        try:
            url.get_dialect()
        except NoSuchModuleError:
            raise ValueError(
                f"unknown database type {url.drivername!r} (expected e.g. {example})"
            ) from None
        return value


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


class WebFormSettings(BaseModel):
    """The agencies' web form and the personal links that lead to it."""

    public_base_url: str = Field(
        default="http://127.0.0.1:8042", description="Base URL the links in emails point to."
    )
    link_secret: SecretStr = Field(
        default=SecretStr(PLACEHOLDER_LINK_SECRET),
        description="Key that signs personal links: at least 32 bytes outside the demo, e.g. "
        'python -c "import secrets; print(secrets.token_urlsafe(48))".',
    )
    previous_link_secrets: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Earlier link secrets, comma-separated: links they signed stay valid until "
        "they expire (rotation); new links are signed with link_secret only.",
    )
    link_valid_days: int = Field(
        default=120, ge=1, le=3650, description="Days a personal link stays valid after issue."
    )
    host: str = Field(default="127.0.0.1", description="Interface the web form listens on.")
    port: int = Field(default=8042, ge=1, le=65535, description="Port the web form listens on.")
    workers: int = Field(
        default=1,
        ge=1,
        le=32,
        description="Worker processes `r42 portal` starts (uvicorn), each with its own receipt "
        "sender. Use about one per core on PostgreSQL; SQLite takes one writer at a time, so "
        "more than one process adds little there.",
    )
    max_upload_bytes: int = Field(
        default=5_000_000, ge=10_000, le=100_000_000, description="Largest Excel upload accepted."
    )
    max_form_bytes: int = Field(
        default=4_000_000,
        ge=100_000,
        le=100_000_000,
        description="Largest web form post (all fields, URL-encoded); larger ones get 413.",
    )
    refusals_per_minute: int = Field(
        default=30,
        ge=1,
        le=100_000,
        description="Refused links one client may request per minute before it gets 429.",
    )

    @field_validator("previous_link_secrets", mode="before")
    @classmethod
    def _secret_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class CycleSettings(BaseModel):
    """Which programme runs, and the timing decisions that are not programme data."""

    programme: str = Field(
        default="vinh-long-r42", description="Code of the programme folder under config/programmes."
    )
    programmes_dir: Path = Field(
        default=Path(__file__).parent / "programmes",
        description="Folder holding one folder per programme (programme.yaml and registry/).",
    )
    approval_timeout_days: int = Field(
        default=30, ge=1, le=365, description="Days the submission flow waits for the coordinator."
    )
    reports_dir: Path = Field(
        default=DATA_DIR / "reports",
        description="Folder of the report files (DOCX, XLSX annex, HTML), one subfolder a cycle.",
    )


class SigningSettings(BaseModel):
    """How the approved report becomes a signed PDF (PAdES): the key and certificate from a
    PKCS#12 file or a PKCS#11 token (USB token, HSM), a time-stamp authority, the seal."""

    pkcs12_file: Path | None = Field(
        default=None,
        description="PKCS#12 file (.p12/.pfx) holding the signing key and certificate.",
    )
    pkcs12_password: SecretStr | None = Field(
        default=None, description="Password of the PKCS#12 file (none: the file has none)."
    )
    pkcs11_module: Path | None = Field(
        default=None,
        description="PKCS#11 library of the signer's token, e.g. /usr/lib/softhsm/libsofthsm2.so.",
    )
    pkcs11_slot: int | None = Field(
        default=None, ge=0, description="Slot of the token (none: the first slot holding a token)."
    )
    pkcs11_token_label: str | None = Field(
        default=None, description="Label of the token to use when several are plugged in."
    )
    pkcs11_pin: SecretStr | None = Field(default=None, description="User PIN of the token.")
    pkcs11_key_label: str | None = Field(
        default=None,
        description="Label of the key and certificate on the token (none: its only certificate).",
    )
    tsa_url: str | None = Field(
        default=None, description="RFC 3161 time-stamp authority URL; none: no time-stamp."
    )
    seal_image: Path | None = Field(
        default=None,
        description="PNG/JPEG of the issuing body's seal, drawn under the visible signature.",
    )
    stamp_font: Path = Field(
        default=Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"),
        description="TrueType font of the visible signature (Vietnamese glyphs, embedded).",
    )
    soffice: str = Field(
        default="soffice", description="LibreOffice program that converts the DOCX to PDF."
    )
    pdfa: bool = Field(default=True, description="Write the PDF as PDF/A-2b (archival).")
    convert_timeout_seconds: float = Field(
        default=180, gt=0, le=3600, description="Longest the DOCX to PDF conversion may take."
    )

    @model_validator(mode="after")
    def _one_key_source(self) -> SigningSettings:
        if self.pkcs12_file and self.pkcs11_module:
            raise ValueError("set pkcs12_file or pkcs11_module, not both")
        if self.tsa_url and not self.tsa_url.startswith(("http://", "https://")):
            raise ValueError("tsa_url must start with http:// or https://")
        return self

    @property
    def enabled(self) -> bool:
        """True when a key source is configured."""
        return bool(self.pkcs12_file or self.pkcs11_module)


class Settings(BaseSettings):
    """All settings; see the classes above for each concern."""

    model_config = SettingsConfigDict(
        env_prefix="R42_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    database: DatabaseSettings = Field(default_factory=DatabaseSettings, description="Database.")
    mail: MailSettings = Field(default_factory=MailSettings, description="Outgoing email.")
    web_form: WebFormSettings = Field(default_factory=WebFormSettings, description="Web form.")
    cycle: CycleSettings = Field(default_factory=CycleSettings, description="Cycle timing.")
    signing: SigningSettings = Field(
        default_factory=SigningSettings, description="Signing the report PDF."
    )
    inbox: InboxSettings = Field(
        default_factory=InboxSettings, description="Replies by email (IMAP)."
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once per process; tests call ``get_settings.cache_clear()``.

    UnsafeSettings (one line per setting) for what must not run outside the demo: a placeholder
    or short link secret, an SMTP login without TLS; ``r42 check`` lists them with the rest."""
    try:
        settings = Settings()
    except ValidationError as exc:
        raise UnsafeSettings(validation_problems(exc.errors())) from None
    problems = unsafe_settings(settings)
    if problems:
        raise UnsafeSettings(problems)
    return settings
