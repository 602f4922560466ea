"""Limits before work: a post's body is capped by its declared and its streamed length, and its
fields by count and size, before anything parses it (the link is checked before that)."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import Message

from documents.vietnamese import format_number

# A field may carry MAX_TEXT characters, each up to 9 bytes once URL-encoded ("ộ" is
# "%E1%BB%99"): the parser's cap leaves room for that, so a long text gets its field's error
# ("tối đa 20.000 ký tự") rather than a refused page.
MAX_FIELD_BYTES = 256 * 1024


class BodyTooLarge(Exception):
    """The request body is over ``limit`` bytes (declared or streamed): 413, nothing read on."""

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(f"body over {limit} bytes")


class FormRefused(Exception):
    """Too many fields, a field too large, or a body that does not parse: 400/413."""

    def __init__(self, status_code: int, reason: str):
        self.status_code, self.reason = status_code, reason
        super().__init__(reason)


def size_text(limit: int) -> str:
    """'5 MB', '0,5 MB' (Vietnamese decimal comma)."""
    megabytes = limit / 1_000_000
    return f"{format_number(round(megabytes, 1)) if megabytes < 10 else round(megabytes)} MB"


def check_declared_length(http: Request, limit: int) -> None:
    length = http.headers.get("content-length")
    if length is not None and length.strip().isdigit() and int(length) > limit:
        raise BodyTooLarge(limit)


async def read_form(
    http: Request,
    *,
    max_bytes: int,
    max_fields: int,
    max_files: int = 0,
    max_part_size: int = MAX_FIELD_BYTES,
) -> FormData:
    """The post's fields, never more than ``max_bytes`` of body read (whatever the headers
    claim), ``max_fields`` fields and ``max_part_size`` bytes a field."""
    check_declared_length(http, max_bytes)
    received = 0

    async def capped() -> Message:
        nonlocal received
        message = await http.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise BodyTooLarge(max_bytes)
        return message

    # without "app" in its scope, Starlette raises the parser's own errors instead of a bare 400
    bounded = Request({k: v for k, v in http.scope.items() if k != "app"}, capped)
    try:
        return await bounded.form(
            max_files=max_files, max_fields=max_fields, max_part_size=max_part_size
        )
    except MultiPartException as exc:
        status = 413 if "size" in exc.message else 400
        raise FormRefused(status, exc.message) from None
    except ValueError as exc:  # a malformed multipart boundary or header
        raise FormRefused(400, str(exc)) from None
