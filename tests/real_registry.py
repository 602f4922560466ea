"""A registry on a real domain, as a province writes it: 13 departments and 124 communes on
``vinhlong.gov.vn`` (names invented), reporting the shipped programme's 34 targets."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import yaml

from config.registry_files import PROGRAMMES_DIR

CODE = "vinh-long-thuc"
DOMAIN = "vinhlong.gov.vn"
DEPARTMENTS, COMMUNES = 13, 124
EFFECTIVE = dt.date(2025, 7, 1)


def _agencies(targets: list[str], groups: list[str]) -> list[dict]:
    agencies = []
    for n in range(1, DEPARTMENTS + 1):
        agencies.append(
            {
                "code": f"so-{n:02d}",
                "name": f"Sở Số {n:02d}",
                "kind": "department",
                "email": f"vanthu.so{n:02d}@{DOMAIN}",
                "head_title": "Giám đốc",
                "head_email": f"giamdoc.so{n:02d}@{DOMAIN}",
                "indicators": targets[n - 1 :: DEPARTMENTS],  # 34 targets over 13 departments
                "task_groups": [groups[n % len(groups)]],
            }
        )
    for n in range(1, COMMUNES + 1):
        agencies.append(
            {
                "code": f"xa-{n:03d}",
                "name": f"Ủy ban nhân dân xã Số {n}",
                "kind": "local",
                "email": f"ubnd.xa{n:03d}@{DOMAIN}",
                "head_title": "Chủ tịch",
                "head_email": f"chutich.xa{n:03d}@{DOMAIN}",
                "task_groups": groups[n % 3 :: 3],
            }
        )
    return agencies


def write_real_registry(root: Path, edit=None) -> Path:
    """``root/vinh-long-thuc``: the shipped programme.yaml and one registry version of 137
    agencies on vinhlong.gov.vn; ``edit(version)`` may change the version before it is written."""
    folder = root / CODE
    (folder / "registry").mkdir(parents=True)
    programme = yaml.safe_load((PROGRAMMES_DIR / "vinh-long-r42" / "programme.yaml").read_text())
    programme["code"] = CODE
    targets = [t["code"] for t in programme["targets"]]
    groups = [g["code"] for g in programme["task_groups"]]
    agencies = _agencies(targets, groups)
    version = {
        "effective_from": EFFECTIVE,
        "label": "Vinh Long after the 2025 reorganisation, on its real mail domain",
        "province": "Vĩnh Long",
        "issuing_body": "ỦY BAN NHÂN DÂN",
        "issuing_body_short": "UBND",
        "place": "Vĩnh Long",
        "sender_address": f"tonghop-nq42@{DOMAIN}",
        "standing_agency": "so-01",
        "ministry": {"name": "Bộ Nội vụ", "short_name": "Bộ NV", "email": "vanthu@moha.gov.vn"},
        "recipients": ["Bộ Nội vụ (báo cáo);", "Lưu: VT."],
        "signer": {"authority": "TM. ỦY BAN NHÂN DÂN", "title": "CHỦ TỊCH", "name": "Nguyễn A"},
        "task_group_leads": {g: agencies[i % DEPARTMENTS]["code"] for i, g in enumerate(groups)},
        "agencies": agencies,
    }
    if edit is not None:
        edit(version)
    dump = {"allow_unicode": True, "sort_keys": False}
    (folder / "programme.yaml").write_text(yaml.safe_dump(programme, **dump), encoding="utf-8")
    (folder / "registry" / f"{EFFECTIVE}.yaml").write_text(
        yaml.safe_dump(version, **dump), encoding="utf-8"
    )
    return folder


def copy_shipped(root: Path) -> Path:
    shutil.copytree(PROGRAMMES_DIR / "vinh-long-r42", root / "vinh-long-r42")
    return root
