"""``r42 check``: the go-live checklist as a table (OK/WARN/FAIL and what to do), or JSON for
monitoring; exit code 1 when anything fails."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from typing import TextIO

from cli.checks import FAIL, Row, run_checks


def render_table(rows: list[Row], width: int) -> str:
    """One row per finding, wrapped to ``width`` under its message (a narrow terminal, a log)."""
    status_width = max(len(r.status) for r in rows)
    check_width = max(len(r.check) for r in rows)
    indent = " " * (status_width + check_width + 4)
    lines = []
    room = max(width - len(indent), 30)
    for row in rows:
        head = f"{row.status:<{status_width}}  {row.check:<{check_width}}  "
        parts = [
            part
            for line in row.message.splitlines()
            for part in textwrap.wrap(line.strip(), room, break_on_hyphens=False) or [""]
        ]
        lines.append(head + parts[0])
        lines += [indent + part for part in parts[1:]]
    failed = sum(r.status == FAIL for r in rows)
    warned = sum(r.status == "WARN" for r in rows)
    lines.append(f"{failed} failed, {warned} warnings, {len(rows) - failed - warned} ok")
    return "\n".join(lines)


def cmd_check(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    rows = run_checks(prefect=not args.no_prefect)
    if args.json:
        json.dump([row.as_dict() for row in rows], out, ensure_ascii=False, indent=1)
        out.write("\n")
    else:
        width = shutil.get_terminal_size((100, 24)).columns
        out.write(render_table(rows, width) + "\n")
    return 1 if any(row.status == FAIL for row in rows) else 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check", help="the go-live checklist: settings, database, registry, relay, web, Prefect"
    )
    p.add_argument("--json", action="store_true", help="JSON rows for monitoring")
    p.add_argument("--no-prefect", action="store_true", help="skip the Prefect server checks")
    p.set_defaults(handler=cmd_check)
