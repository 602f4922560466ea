"""`python -m demo midterm` in a clean folder: the 2025 round runs through the shared flows, is
approved and sent as the yearly report is, and its documents are usable."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import docx
import openpyxl

from tests.servers import require_programs, run_r42_in_clean_folder


def test_demo_midterm_writes_the_evaluation_report(tmp_path):
    run = run_r42_in_clean_folder(tmp_path, "midterm", module="demo")
    assert "Mid-term demo finished." in run.stdout
    paths = dict(re.findall(r"^\s+(DOCX|XLSX|HTML|PDF): (\S+) ", run.stdout, re.MULTILINE))
    assert set(paths) == {"DOCX", "XLSX", "HTML", "PDF"}
    folder = tmp_path / "data" / "demo-midterm" / "reports" / "vinh-long-r42" / "2025-midterm"
    assert (tmp_path / paths["DOCX"]) == folder / "so-ket-2025-88-BC-UBND.docx"
    assert "so-ket-2025-du-thao-2.docx" in run.stdout  # the drafts beside it
    kinds = re.search(r"Outbox .*: (\{.*\})", run.stdout).group(1)
    assert "'request': 23" in kinds and "'reminder'" in kinds and "'receipt': 19" in kinds
    assert "'report': 1" in kinds  # sent to the ministry once approved

    document = docx.Document(str(folder / "so-ket-2025-du-thao-2.docx"))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Sơ kết việc thực hiện" in text and "giai đoạn 2024-2025" in text
    assert "Có 19/23 cơ quan, đơn vị gửi báo cáo sơ kết" in text
    assert len(document.inline_shapes) == 35  # the overview and one chart per target
    sheet = openpyxl.load_workbook(folder / "so-ket-2025-du-thao-2.xlsx")["Chỉ tiêu"]
    assert [c.value for c in sheet[4]][4:6] == ["2024", "2025"]
    html = (folder / "so-ket-2025-du-thao-2.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 35

    require_programs("soffice", "pdfinfo")
    soffice = shutil.which("soffice")
    subprocess.run(
        [
            soffice,
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            folder / "so-ket-2025-du-thao-2.docx",
        ],
        env={**os.environ, "HOME": str(tmp_path)},
        capture_output=True,
        timeout=180,
        check=True,
    )
    info = subprocess.run(
        ["pdfinfo", str(tmp_path / "so-ket-2025-du-thao-2.pdf")], capture_output=True, text=True
    ).stdout
    assert "(A4)" in info and int(re.search(r"Pages:\s+(\d+)", info).group(1)) > 5
