"""A zip archive (the XLSX container) written from parts compressed once and reused.

Compressing is most of what is left of a form's cost once its sheets are cached
(``documents.xlsx_cache``): the same XML would be deflated again for every agency. Deflate
output can be joined: a piece compressed on its own and ended with a full flush is a run of
complete, byte-aligned blocks whose back-references stay inside it, so a part is written as
its cached pieces with only the agency's own text compressed between them, then an empty
final block. CRC-32 is computed over the whole part, as zip requires.
"""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

LEVEL = 6
_FINAL = zlib.compressobj(LEVEL, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)  # empty, final
_DOS_TIME, _DOS_DATE = 0, ((2024 - 1980) << 9) | (1 << 5) | 1  # 01/01/2024 00:00, fixed
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")


@dataclass(frozen=True)
class Piece:
    """Some bytes of a part and their deflated blocks (not final: pieces are joined)."""

    raw: bytes
    deflated: bytes

    @classmethod
    def of(cls, raw: bytes) -> Piece:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
        return cls(raw, compressor.compress(raw) + compressor.flush(zlib.Z_FULL_FLUSH))

    @classmethod
    def stored(cls, raw: bytes) -> Piece:
        """A few bytes kept as they are (a stored block): cheaper than starting a compressor."""
        blocks = [
            b"\x00" + struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF) + chunk
            for chunk in (raw[i : i + 0xFFFF] for i in range(0, len(raw), 0xFFFF))
        ]
        return cls(raw, b"".join(blocks))


@functools.lru_cache(maxsize=256)
def cached_piece(text: str) -> Piece:
    """A whole part that many archives share (styles, relationships...), compressed once."""
    return Piece.of(text.encode("utf-8"))


def archive(parts: Sequence[tuple[str, Sequence[Piece]]]) -> bytes:
    """The zip file of ``(name, pieces)`` parts, in order; every member deflated."""
    out, central = [], []
    offset = 0
    for name, pieces in parts:
        data = b"".join(p.deflated for p in pieces) + _FINAL
        crc, size = 0, 0
        for piece in pieces:
            crc = zlib.crc32(piece.raw, crc)
            size += len(piece.raw)
        encoded = name.encode("ascii")
        header = _LOCAL.pack(
            0x04034B50, 20, 0, 8, _DOS_TIME, _DOS_DATE, crc, len(data), size, len(encoded), 0
        )
        central.append(
            _CENTRAL.pack(
                0x02014B50,
                20,
                20,
                0,
                8,
                _DOS_TIME,
                _DOS_DATE,
                crc,
                len(data),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
        out += [header, encoded, data]
        offset += len(header) + len(encoded) + len(data)
    directory = b"".join(central)
    end = _END.pack(0x06054B50, 0, 0, len(parts), len(parts), len(directory), offset, 0)
    return b"".join(out) + directory + end
