"""Write MIME messages straight to bytes: the header fields ``compose`` needs, encoded once.

``email.message.EmailMessage`` spends 8-25 ms per Vietnamese message refolding its headers
(RFC 2047 and RFC 2231 through the generic header parser); writing the structure directly costs
about half a millisecond (benchmarks/README.md). What is written, and why:

- Header lines end in CRLF and are folded at whitespace to at most 78 characters; only one
  token that cannot be folded makes a longer line (the 73-character XLSX MIME type after
  "Content-Type: ", a very long address or Message-ID), never over 998.
- Non-ASCII text goes into RFC 2047 encoded-words (UTF-8, base64, at most 75 characters, never
  splitting a character). Runs of ASCII words stay readable: atoms in display names (quoted
  strings when they hold specials such as ``,`` or ``"``), plain words in the subject.
- Two encoded-words are only ever adjacent inside one run of non-ASCII words; the space between
  words sits inside the encoded text, as RFC 2047 section 6.2 requires (readers drop the
  whitespace between adjacent encoded-words). Python 3.11's own address parser does not drop it
  (CPython gh-128110) and shows a doubled space there; keeping runs apart with plain ASCII words
  makes that rare (a run must exceed ~45 bytes of UTF-8).
- The parts below the headers (text, attachments, multipart) are ``mail.mime_parts``.
- The whole message is in SMTP's wire form (CRLF line ends, no line opening with "."), checked
  by the tests (``mail.wire``), so the transport sends it after DATA as it is.
"""

from __future__ import annotations

import base64
import re
import string
import uuid
from collections.abc import Iterable, Sequence
from itertools import groupby

CRLF = b"\r\n"
MAX_LINE = 78  # RFC 5322 2.1.1: SHOULD; 998 is the MUST
MAX_ENCODED_WORD = 75  # RFC 2047 2
_EW_OVERHEAD = len("=?utf-8?b??=")
_ATEXT = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~")
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*|\[[!-Z^-~]+\]")  # host name or address literal
_LONGEST_PLAIN_WORD = 60


def refuse_line_breaks(value: str, what: str) -> str:
    """``value`` unchanged; ValueError if it holds CR or LF (header injection)."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"{what} cannot contain CR or LF: {value!r}")
    return value


def check_address(address: str) -> str:
    """``address`` if it is a plain ``local@domain`` an SMTP envelope can carry, else ValueError.

    Only ASCII dot-atom local parts are accepted: quoted local parts and internationalised
    addresses (SMTPUTF8) are refused rather than sent half-encoded.
    """
    local, at, domain = address.rpartition("@")
    if not (at and _DOT_ATOM.fullmatch(local) and _DOMAIN.fullmatch(domain)):
        raise ValueError(f"invalid address {address!r}")
    return address


def check_domain(domain: str) -> str:
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"invalid domain {domain!r}")
    return domain


def message_id(domain: str) -> str:
    """``<random-hex@domain>``: 122 random bits, no host name lookup."""
    return f"<{uuid.uuid4().hex}@{check_domain(domain)}>"


def _capacity(width: int) -> int:
    """Bytes of UTF-8 that fit in one encoded-word of at most ``width`` characters."""
    return 3 * ((width - _EW_OVERHEAD) // 4)


def _encoded_word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode("ascii") + "?="


def encoded_words(text: str, first_width: int = MAX_ENCODED_WORD) -> list[str]:
    """``text`` as RFC 2047 encoded-words; the first at most ``first_width`` characters wide.

    Words break between characters, preferably just after a space (which stays inside the
    earlier word), so each decodes on its own and the whole decodes to ``text`` exactly.
    """
    sizes = [len(c.encode()) for c in text]
    words: list[str] = []
    start, limit = 0, max(4, _capacity(min(first_width, MAX_ENCODED_WORD)))
    while start < len(text):
        end, size = start, 0
        while end < len(text) and size + sizes[end] <= limit:
            size += sizes[end]
            end += 1
        if end < len(text):
            space = text.rfind(" ", start, end)
            if space > start:
                end = space + 1
        words.append(_encoded_word(text[start:end]))
        start, limit = end, _capacity(MAX_ENCODED_WORD)
    return words


class _Header:
    """One header field being written: tokens separated by a space, folded before a token."""

    def __init__(self, name: str):
        self.lines: list[str] = []
        self.line = name + ":"
        self.empty = True  # nothing on this field's first line yet: never fold there

    def add(self, token: str) -> None:
        if not self.empty and len(self.line) + 1 + len(token) > MAX_LINE:
            self.lines.append(self.line)
            self.line = ""
        self.line += " " + token
        self.empty = False

    def add_encoded(self, text: str) -> None:
        """``text`` as encoded-words: one if it fits in one (folding first if need be)."""
        room = MAX_LINE - len(self.line) - 1
        size = len(text.encode())
        fits_one_word = size <= _capacity(MAX_ENCODED_WORD)
        if not self.empty and ((fits_one_word and size > _capacity(room)) or _capacity(room) < 4):
            self.lines.append(self.line)
            self.line, room = "", MAX_LINE - 1
        for word in encoded_words(text, room):
            self.add(word)

    def add_quoted(self, words: list[str]) -> None:
        """ASCII words as quoted strings, as many per string as fit on a line."""
        quoted = [w.replace("\\", "\\\\").replace('"', '\\"') for w in words]
        run: list[str] = []
        for word in quoted:
            if run and len(" ".join([*run, word])) + 2 > MAX_LINE - 2:
                self.add('"' + " ".join(run) + '"')
                run = []
            run.append(word)
        self.add('"' + " ".join(run) + '"')

    def encode(self) -> bytes:
        return "\r\n".join([*self.lines, self.line]).encode("ascii") + CRLF


def _plain_word(word: str) -> bool:
    """Whether a word can go into a header as it is (printable ASCII, not like an encoded-word)."""
    return (
        word.isascii()
        and word.isprintable()
        and "=?" not in word
        and 0 < len(word) <= _LONGEST_PLAIN_WORD
    )


def normalised(text: str) -> str:
    """``text`` with its whitespace collapsed to single spaces, trimmed."""
    return " ".join(text.split())


def unstructured_header(name: str, text: str) -> bytes:
    """``Name: text`` for free text such as Subject; whitespace is collapsed to single spaces."""
    header = _Header(name)
    words = normalised(refuse_line_breaks(text, name)).split(" ")
    for plain, run in groupby(words, key=_plain_word):
        if plain:
            for word in run:
                header.add(word)
        else:
            header.add_encoded(" ".join(run))
    return header.encode()


def _add_phrase(header: _Header, name: str) -> None:
    """A display name: atoms, quoted strings for ASCII with specials, encoded-words otherwise."""
    words = name.split(" ")
    for plain, run in groupby(words, key=_plain_word):
        run = list(run)
        if not plain:
            header.add_encoded(" ".join(run))
        elif all(_ATEXT.issuperset(word) for word in run):
            for word in run:
                header.add(word)
        else:
            header.add_quoted(run)


def address_header(name: str, mailboxes: Sequence[tuple[str, str]]) -> bytes:
    """``Name: display <address>, ...`` from (display name, address) pairs.

    Display names have their whitespace collapsed; CR/LF in a name or an address, or an
    address that is not a plain ASCII ``local@domain``, raise ValueError.
    """
    header = _Header(name)
    for number, (display, address) in enumerate(mailboxes, start=1):
        check_address(address)
        display = normalised(refuse_line_breaks(display, "a display name"))
        separator = "," if number < len(mailboxes) else ""
        if display:
            _add_phrase(header, display)
            header.add(f"<{address}>{separator}")
        else:
            header.add(address + separator)
    return header.encode()


def simple_header(name: str, value: str) -> bytes:
    """A header whose value is ASCII that needs no encoding (Date, Message-ID, MIME-Version)."""
    refuse_line_breaks(value, name)
    return f"{name}: {value}".encode("ascii") + CRLF


def parameter_header(name: str, value: str, parameters: Iterable[str]) -> bytes:
    """``Name: value; parameter; ...`` (Content-Type, Content-Disposition), folded between
    parameters."""
    header = _Header(name)
    tokens = [value, *parameters]
    for number, token in enumerate(tokens, start=1):
        header.add(token + (";" if number < len(tokens) else ""))
    return header.encode()
