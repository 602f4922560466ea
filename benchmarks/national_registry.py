"""A synthetic national registry: programme folders as ``r42 load-registry`` reads them.

    .venv/bin/python -m benchmarks.national_registry DIR [--agencies 4500]
    .venv/bin/python -m benchmarks.national_registry DIR --provinces 34 --per-province 130

Either one programme with N agencies (``national-4500``), or one programme per province
(``tinh-01`` ... ``tinh-34``), each with the 34 targets and 8 task groups of the shipped
programme. Every name is invented ("Ủy ban nhân dân xã Số 123") and every address is on the
reserved ``.example`` domain. As the registry schema requires, each target is reported by
exactly one agency: the first 34 agencies are provincial departments reporting one target each
(and leading the task groups); the others are communes and wards reporting on two or three
task groups. Load one with

    R42_CYCLE__PROGRAMMES_DIR=DIR .venv/bin/r42 load-registry --programme national-4500
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import yaml

from config.registry_files import PROGRAMMES_DIR

SOURCE = "vinh-long-r42"
EFFECTIVE = dt.date(2025, 7, 1)
LOCAL_KINDS = [("xã", "xa"), ("phường", "phuong"), ("xã", "xa"), ("đặc khu", "dackhu")]


def _source_programme() -> dict:
    return yaml.safe_load((PROGRAMMES_DIR / SOURCE / "programme.yaml").read_text(encoding="utf-8"))


def _agency(number: int, province: int, targets: list[str], groups: list[str]) -> dict:
    domain = f"tinh{province:02d}.example"
    if number <= len(targets):
        code, name = f"so-{number:02d}", f"Sở Số {number:02d} tỉnh Số {province:02d}"
        kind, title, mailbox = "department", "Giám đốc", f"so{number:02d}"
        indicators = [targets[number - 1]]
        tasks = [groups[(number + k) % len(groups)] for k in range(3)]
    else:
        local, slug = LOCAL_KINDS[number % len(LOCAL_KINDS)]
        code, name = f"{slug}-{number}", f"Ủy ban nhân dân {local} Số {number}"
        kind, title, mailbox, indicators = "local", "Chủ tịch", f"{slug}{number}", []
        tasks = [groups[(number + k) % len(groups)] for k in range(2 + number % 2)]
    return {
        "code": code,
        "name": name,
        "kind": kind,
        "email": f"vanthu@{mailbox}.{domain}",
        "head_title": title,
        "head_email": f"lanhdao@{mailbox}.{domain}",
        "indicators": indicators,
        "task_groups": sorted(set(tasks), key=groups.index),
    }


def write_programme(root: Path, code: str, agencies: int, province: int) -> Path:
    """Write ``root/code`` with ``agencies`` agencies (at least one per target)."""
    programme = _source_programme()
    targets = [t["code"] for t in programme["targets"]]
    groups = [g["code"] for g in programme["task_groups"]]
    if agencies < len(targets):
        raise ValueError(f"need at least {len(targets)} agencies, one per target")
    province_name = f"Tỉnh Số {province:02d}"
    programme.update(
        code=code,
        province=province_name,
        name=f"{programme['name']} (dữ liệu tổng hợp để đo hiệu năng, {province_name})",
    )
    listed = [_agency(n, province, targets, groups) for n in range(1, agencies + 1)]
    version = {
        "effective_from": EFFECTIVE,
        "label": f"Synthetic national-scale registry, {agencies} agencies (benchmark only)",
        "province": province_name,
        "issuing_body": "ỦY BAN NHÂN DÂN",
        "issuing_body_short": "UBND",
        "place": province_name,
        "sender_name": "Bộ phận tổng hợp (dữ liệu đo hiệu năng)",
        "subject_tag": "NQ42-ĐO",
        "standing_agency": listed[0]["code"],
        "ministry": {"name": "Bộ Nội vụ", "short_name": "Bộ NV", "email": "vanthu@moha.example"},
        "recipients": ["Bộ Nội vụ (báo cáo);", "Lưu: VT."],
        "signer": {
            "authority": "TM. ỦY BAN NHÂN DÂN",
            "deputy": "KT. CHỦ TỊCH",
            "title": "PHÓ CHỦ TỊCH",
            "name": "Nguyễn Văn Đo",
        },
        "task_group_leads": {g: listed[i % len(targets)]["code"] for i, g in enumerate(groups)},
        "agencies": listed,
    }
    folder = root / code
    (folder / "registry").mkdir(parents=True, exist_ok=True)
    dump = {"allow_unicode": True, "sort_keys": False, "width": 100}
    (folder / "programme.yaml").write_text(yaml.safe_dump(programme, **dump), encoding="utf-8")
    (folder / "registry" / f"{EFFECTIVE}.yaml").write_text(
        yaml.safe_dump(version, **dump), encoding="utf-8"
    )
    return folder


def write_national(root: Path, *, provinces: int = 34, per_province: int = 130) -> list[str]:
    """One programme folder per province; returns their codes."""
    codes = [f"tinh-{p:02d}" for p in range(1, provinces + 1)]
    for province, code in enumerate(codes, start=1):
        write_programme(root, code, per_province, province)
    return codes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="folder to write programme folders into")
    parser.add_argument("--agencies", type=int, default=4500, help="one programme of N agencies")
    parser.add_argument("--provinces", type=int, help="instead: one programme per province")
    parser.add_argument("--per-province", type=int, default=130, help="agencies per province")
    args = parser.parse_args(argv)
    if args.provinces:
        codes = write_national(args.root, provinces=args.provinces, per_province=args.per_province)
    else:
        codes = [write_programme(args.root, f"national-{args.agencies}", args.agencies, 1).name]
    print(f"wrote {len(codes)} programme folder(s) in {args.root}: {', '.join(codes[:5])}...")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
