"""Limits before work: a post's body is capped by its declared and its streamed length, and its
fields by count and size, before anything parses it (the link is checked before that)."""

from __future__ import annotations

from urllib.parse import unquote_plus

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


URLENCODED = "application/x-www-form-urlencoded"
SMALL_BODY = 64 * 1024  # bytes read whole before parsing (a yearly form posts ~3-10 kB)


def small_urlencoded(http: Request) -> bool:
    """A urlencoded post that declares a body of at most SMALL_BODY bytes (a larger one is
    parsed as it streams in, so that a field over its limit stops the read)."""
    length = http.headers.get("content-length", "")
    return (
        http.headers.get("content-type") == URLENCODED
        and length.isdigit()
        and int(length) <= SMALL_BODY
    )


def plain_fields(body: bytes, max_fields: int, max_part_size: int) -> FormData | None:
    """A urlencoded body of ``name=value`` fields joined by "&", parsed as Starlette's parser
    does (each part decoded as Latin-1, then unquoted), with its errors, at half its CPU (its
    byte-by-byte state machine was ~3 % of a post's); None for anything else (an empty field,
    one without "=", a ";"), which Starlette's parser reads."""
    if b";" in body:
        return None
    items: list[tuple[str, str]] = []
    for part in body.split(b"&"):
        name, equals, value = part.partition(b"=")
        if not name or not equals:
            return None
        if len(part) > max_part_size + 1:  # the name's and the value's bytes, as Starlette's
            kilobytes = int(max_part_size / 1024)
            raise MultiPartException(f"Field exceeded maximum size of {kilobytes}KB.")
        if len(items) == max_fields:
            raise MultiPartException(f"Too many fields. Maximum number of fields is {max_fields}.")
        items.append((unquote_plus(name.decode("latin-1")), unquote_plus(value.decode("latin-1"))))
    return FormData(items)


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
        if small_urlencoded(http):  # what the web form posts
            fields = plain_fields(await bounded.body(), max_fields, max_part_size)
            if fields is not None:
                return fields
        return await bounded.form(  # reads the body kept by bounded.body(), if read
            max_files=max_files, max_fields=max_fields, max_part_size=max_part_size
        )
    except MultiPartException as exc:
        status = 413 if "size" in exc.message else 400
        raise FormRefused(status, exc.message) from None
    except ValueError as exc:  # a malformed multipart boundary or header
        raise FormRefused(400, str(exc)) from None
