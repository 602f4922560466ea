"""One line of ``r42 check``: its status, the part checked and what to do."""

from __future__ import annotations

from dataclasses import asdict, dataclass

OK, WARN, FAIL = "OK", "WARN", "FAIL"


@dataclass(frozen=True)
class Row:
    status: str  # OK, WARN or FAIL
    check: str  # settings, database, registry, smtp, web, prefect, outbox
    message: str  # what was found, naming the setting; for WARN/FAIL what to do

    def as_dict(self) -> dict[str, str]:
        return asdict(self)
