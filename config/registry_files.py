"""Read a programme folder, validate every file, and cross-check the files together.

A broken file raises :class:`RegistryError` naming the file and the field.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from pydantic import BaseModel, ValidationError

from config.registry import (
    Programme,
    ProgrammeRegistry,
    RegistryError,
    RegistryVersion,
    no_duplicates,
)
from config.settings import get_settings
from config.yaml_files import YamlFileError, load_yaml

PROGRAMMES_DIR = Path(__file__).parent / "programmes"
MAX_LISTED_ERRORS = 20  # a file with 248 bad addresses is refused in 21 lines, not one of 248


def _read_yaml(path: Path) -> dict:
    try:
        data = load_yaml(path)
    except YamlFileError as exc:
        raise RegistryError(str(exc)) from None
    if not isinstance(data, dict):
        raise RegistryError(f"{path}: expected a mapping at the top level")
    return data


def problem_lines(problems: list[str], limit: int = MAX_LISTED_ERRORS) -> str:
    """One problem per indented line, cut after ``limit`` lines with "and N more"."""
    lines = [f"  - {problem}" for problem in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more")
    return "\n".join(lines)


def _parse(model: type[BaseModel], path: Path, data: dict) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(error, data) for error in exc.errors()]
        if len(problems) == 1:
            raise RegistryError(f"{path}: {problems[0]}") from None
        raise RegistryError(
            f"{path}: {len(problems)} problems:\n{problem_lines(problems)}"
        ) from None


def _describe(error: dict, data: dict) -> str:
    """'agencies[3] (so-y-te).email: value is not a valid email address ...'"""
    parts: list[str] = []
    node = data
    for loc in error["loc"]:
        if isinstance(loc, int):
            code = (
                node[loc].get("code")
                if isinstance(node, list) and loc < len(node) and isinstance(node[loc], dict)
                else None
            )
            parts[-1] += f"[{loc}]" + (f" ({code})" if code else "")
        else:
            parts.append(str(loc))
        try:
            node = node[loc]
        except (KeyError, IndexError, TypeError):
            node = None
    where = ".".join(parts) or "(top level)"
    return f"{where}: {error['msg']}"


def _check_version(path: Path, programme: Programme, version: RegistryVersion) -> None:
    """Cross-file checks: codes refer to things that exist, every target has one reporter."""

    def fail(message: str) -> None:
        raise RegistryError(f"{path}: {message}")

    stem = path.stem
    if (
        not re.fullmatch(r"\d{4}-\d{2}-\d{2}", stem)
        or dt.date.fromisoformat(stem) != version.effective_from
    ):
        fail(f"effective_from: {version.effective_from} does not match the file name {path.name}")
    codes = [a.code for a in version.agencies]
    try:
        no_duplicates("agencies", codes)
        no_duplicates("agencies.email", [str(a.email).lower() for a in version.agencies])
    except ValueError as exc:
        fail(str(exc))
    if version.standing_agency not in codes:
        fail(f"standing_agency: unknown agency {version.standing_agency!r}")
    target_codes = {t.code for t in programme.targets}
    group_codes = {g.code for g in programme.task_groups}
    reporters: dict[str, list[str]] = {code: [] for code in target_codes}
    for i, agency in enumerate(version.agencies):
        for code in agency.indicators:
            if code not in target_codes:
                fail(f"agencies[{i}] ({agency.code}).indicators: unknown target {code!r}")
            reporters[code].append(agency.code)
        for code in agency.task_groups:
            if code not in group_codes:
                fail(f"agencies[{i}] ({agency.code}).task_groups: unknown task group {code!r}")
    for code, by in sorted(reporters.items()):
        if len(by) != 1:
            fail(f"indicators: target {code!r} must be reported by exactly one agency, not {by}")
    for group, lead in version.task_group_leads.items():
        if group not in group_codes:
            fail(f"task_group_leads: unknown task group {group!r}")
        if lead not in codes:
            fail(f"task_group_leads.{group}: unknown agency {lead!r}")
    missing = group_codes - set(version.task_group_leads)
    if missing:
        fail(f"task_group_leads: no lead for {sorted(missing)}")


def load_programme(code: str, root: Path | None = None) -> ProgrammeRegistry:
    """Read and validate one programme folder of ``root`` (default: the configured folder)."""
    folder = (root or get_settings().cycle.programmes_dir) / code
    path = folder / "programme.yaml"
    programme = _parse(Programme, path, _read_yaml(path))
    if programme.code != code:
        raise RegistryError(f"{path}: code: {programme.code!r} does not match the folder {code!r}")
    files = sorted((folder / "registry").glob("*.yaml"))
    if not files:
        raise RegistryError(f"{folder / 'registry'}: no registry version files")
    versions = []
    for file in files:
        version = _parse(RegistryVersion, file, _read_yaml(file))
        _check_version(file, programme, version)
        versions.append(version)
    return ProgrammeRegistry(programme=programme, versions=versions)


def programme_codes(root: Path | None = None) -> list[str]:
    """Codes of every programme folder in ``root`` (default: the configured folder)."""
    root = root or get_settings().cycle.programmes_dir
    return sorted(p.parent.name for p in root.glob("*/programme.yaml"))
