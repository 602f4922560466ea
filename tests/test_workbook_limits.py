"""A workbook within every byte cap but holding far more cells than a form can is refused while
it streams, cheaply; an accepted form is read in well under 200 MB and 2 s (each measured in a
fresh process, as the portal would see it)."""

from __future__ import annotations

import io
import json
import random
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from documents.xlsx_safety import ExcelFormError
from reporting.excel_reader import read_form
from tests.test_portal import filled_form, path_of, portal  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
MEASURE = """
import json, sys, time
from reporting.excel_reader import read_form
from documents.xlsx_safety import ExcelFormError
def peak_kb():  # VmHWM starts afresh at exec (getrusage would count the parent's pages)
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
data = open(sys.argv[1], "rb").read()
before = peak_kb()
started = time.perf_counter()
try:
    read_form(data)
    outcome = "accepted"
except ExcelFormError as exc:
    outcome = " ".join(exc.errors)
print(json.dumps({"outcome": outcome, "seconds": time.perf_counter() - started,
                  "peak_mb": peak_kb() / 1024, "grown_mb": (peak_kb() - before) / 1024}))
"""


def measure(content: bytes, tmp_path: Path) -> dict:
    file = tmp_path / "upload.xlsx"
    file.write_bytes(content)
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(file)], cwd=ROOT, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return json.loads(done.stdout)


def with_sheet(content: bytes, edit) -> bytes:  # noqa: ANN001
    """The workbook with its first worksheet's XML passed through ``edit``."""
    source, out = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = edit(data)
            target.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def million_cells_in_one_row(xml: bytes) -> bytes:
    """The issue's workbook: 3 million tiny cells in one row (about 48 MB of XML)."""
    rng = random.Random(42)
    cells = "".join(f"<c><v>{rng.randrange(100)}</v></c>" for _ in range(3_000_000))
    return xml.replace(b"</sheetData>", f'<row r="900">{cells}</row></sheetData>'.encode())


def test_three_million_tiny_cells_are_refused_while_streaming(portal, tmp_path):  # noqa: F811
    content = with_sheet(filled_form(portal, path_of()), million_cells_in_one_row)
    assert len(content) < 5_000_000  # within the upload cap
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        unpacked = sum(m.file_size for m in archive.infolist())
    assert unpacked > 40_000_000  # within the unpacked cap (50 MB) too
    result = measure(content, tmp_path)
    print("3 million cells:", result)
    assert "quá nhiều ô" in result["outcome"] and "sheet1.xml" in result["outcome"]
    assert result["seconds"] < 2 and result["grown_mb"] < 50, result


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (lambda x: re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:XFD1048576"', x), "cột XFD"),
        (lambda x: x.replace(b"</sheetData>", b'<row r="50000"><c r="A50000"><v>1</v></c></row></sheetData>'), "dòng 50.000"),
        (lambda x: x.replace(b"</sheetData>", b'<row r="99"><c r="ZZ99"><v>1</v></c></row></sheetData>'), "cột ZZ"),
    ],
    ids=["declared-dimension", "far-row", "far-column"],
)
def test_a_sheet_past_the_form_s_rows_or_columns_is_refused(portal, edit, fragment):  # noqa: F811
    content = with_sheet(filled_form(portal, path_of()), edit)
    with pytest.raises(ExcelFormError) as refused:
        read_form(content)
    assert fragment in " ".join(refused.value.errors)


def test_an_accepted_form_is_read_in_little_memory_and_time(portal, tmp_path):  # noqa: F811
    result = measure(filled_form(portal, path_of()), tmp_path)
    print("a real form:", result)
    assert result["outcome"] == "accepted"
    assert result["seconds"] < 2 and result["peak_mb"] < 200, result
