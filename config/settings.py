"""Application settings, one class per concern, read from the environment and ``.env``.

Every variable starts with ``R42_`` and nests with ``__``, e.g. ``R42_DATABASE__URL`` or
``R42_MAIL__SMTP_HOST``. The defaults are the embedded set-up: a SQLite file and a local
outbox folder under ``./data``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from config import DATA_DIR
from config.mail_settings import InboxSettings, MailSettings
from config.signing_settings import SigningSettings
from config.startup_checks import (
    PLACEHOLDER_LINK_SECRET,
    UnsafeSettings,
    unsafe_settings,
    validation_problems,
)


class DatabaseSettings(BaseModel):
    """Where the application's own data lives (not Prefect's)."""

    url: str = Field(
        default=f"sqlite:///{DATA_DIR / 'r42.sqlite3'}",
        description="SQLAlchemy URL; e.g. postgresql+psycopg://user:pass@host:5432/r42.",
    )
    echo: bool = Field(default=False, description="Log every SQL statement (debugging only).")
    pool_size: int = Field(
        default=20,
        ge=1,
        le=100,
        description="PostgreSQL connections each process keeps open (10 more are opened and "
        "closed as needed). Each web form post holds one while it runs: with 5, a portal "
        "process taking 25 posts at once opened a new connection for 4 posts in 10.",
    )

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
