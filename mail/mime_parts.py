"""The parts of a MIME message below its headers, written straight to bytes (the header fields
and their folding are ``mail.mime``; ``mail.compose`` puts both together):

- Bodies are base64 (76-character lines): text parts in canonical CRLF form, so no line is ever
  too long and nothing in a body ("From ", a lone ".") can be altered in transit.
- Attachments name their file per RFC 2231 (``filename*``, continued over several lines when
  long, each piece whole characters) followed by a plain-ASCII ``filename`` for old readers.
- Multipart boundaries start with ``=_``, which base64 text can never contain.
"""

from __future__ import annotations

import base64
import re
import unicodedata
import uuid
from collections.abc import Sequence
from urllib.parse import quote

from mail.mime import CRLF, MAX_LINE, normalised, parameter_header

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 2045 token
_ATTRIBUTE_SAFE = "!#$&+^`{|}"  # RFC 2231 attribute-char beyond quote()'s own unreserved set


def _base64_lines(data: bytes) -> bytes:
    """Base64 in lines of 76 characters, each ending in CRLF; an empty body gives one CRLF."""
    if not data:
        return CRLF
    return base64.encodebytes(data).replace(b"\n", CRLF)


def text_part(subtype: str, text: str) -> bytes:
    """A UTF-8 text part: line breaks made CRLF (MIME's canonical form), then base64."""
    body = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n".encode("ascii")
        + _base64_lines(body.encode("utf-8"))
    )


def ascii_filename(filename: str) -> str:
    """A readable plain-ASCII stand-in for ``filename`` ("Biểu mẫu.xlsx" -> "Bieu mau.xlsx")."""
    text = unicodedata.normalize("NFKD", filename.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = "".join(c if " " <= c <= "~" and c not in '"\\/' else "_" for c in text)
    text = normalised(text)
    limit = MAX_LINE - len(' filename="";')
    if len(text) > limit:
        stem, dot, extension = text.rpartition(".")
        if dot and 0 < len(extension) < 10:
            text = stem[: limit - len(extension) - 1].rstrip() + "." + extension
        else:
            text = text[:limit]
    return text or "attachment"


def _filename_parameters(filename: str) -> list[str]:
    """RFC 2231 ``filename*`` (continued when long, whole characters per piece), ASCII fallback."""
    pieces = [quote(c, safe=_ATTRIBUTE_SAFE) for c in filename]
    value = "utf-8''" + "".join(pieces)
    if len(f" filename*={value};") <= MAX_LINE:
        extended = [f"filename*={value}"]
    else:
        extended, current = [], "utf-8''"
        for piece in pieces:
            prefix = f" filename*{len(extended)}*="
            if current and len(prefix) + len(current) + len(piece) + 1 > MAX_LINE:
                extended.append(f"filename*{len(extended)}*={current}")
                current = ""
            current += piece
        extended.append(f"filename*{len(extended)}*={current}")
    # The extended form first: Python's parser keeps the first of two same-named parameters.
    return [*extended, f'filename="{ascii_filename(filename)}"']


def attachment_part(filename: str, content: bytes, mime_type: str) -> bytes:
    """A base64 attachment part with ``Content-Disposition: attachment`` and its file name."""
    maintype, slash, subtype = mime_type.partition("/")
    if not (slash and _TOKEN.fullmatch(maintype) and _TOKEN.fullmatch(subtype)):
        raise ValueError(f"invalid MIME type {mime_type!r}")
    parameters = _filename_parameters(filename) if filename else []
    return (
        parameter_header("Content-Type", mime_type.lower(), [])
        + b"Content-Transfer-Encoding: base64\r\n"
        + parameter_header("Content-Disposition", "attachment", parameters)
        + CRLF
        + _base64_lines(content)
    )


def multipart(subtype: str, parts: Sequence[bytes]) -> bytes:
    """A ``multipart/<subtype>`` entity (its Content-Type header, a blank line, the parts)."""
    boundary = "=_" + uuid.uuid4().hex
    delimiter = f"--{boundary}\r\n".encode("ascii")
    return b"".join(
        [
            parameter_header("Content-Type", f"multipart/{subtype}", [f'boundary="{boundary}"']),
            CRLF,
            *(delimiter + part for part in parts),  # each part ends in CRLF, the delimiter's own
            f"--{boundary}--\r\n".encode("ascii"),
        ]
    )
