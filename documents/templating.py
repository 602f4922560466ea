"""The one Jinja environment for emails and reports: autoescaped HTML, strict undefined."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from documents import vietnamese
from documents.report_text import plain_text, ruled_tables

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        number=vietnamese.format_number,
        percent=vietnamese.format_percent,
        date=vietnamese.format_date,
        long_date=vietnamese.format_long_date,
        weekday_date=vietnamese.format_weekday_date,
        valid_until=vietnamese.valid_until,  # a link's last day, or until the cycle is locked
        plain_text=plain_text,  # a report's HTML as readable plain text (its email)
        ruled_tables=ruled_tables,  # a report's HTML with its tables ruled for email clients
    )
    return env


def render(name: str, **context: object) -> str:
    return environment().get_template(name).render(**context)


@dataclass(frozen=True)
class EmailText:
    """An email's words: what ``mail.compose.compose`` puts into a message."""

    subject: str
    text: str
    html: str


def render_email(template: str, **context: object) -> EmailText:
    """``templates/email/<template>.{subject,txt,html}.j2`` rendered with ``context``."""
    return EmailText(
        subject=render(f"email/{template}.subject.j2", **context),
        text=render(f"email/{template}.txt.j2", **context),
        html=render(f"email/{template}.html.j2", **context),
    )
