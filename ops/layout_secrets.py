"""The layout's secrets: generated on the first ``up``, kept (mode 600), reused on every later one.

- ``R42_WEB_FORM__LINK_SECRET`` signs the agencies' personal links (changing it invalidates
  every link already sent, so it is made once and never again);
- ``PREFECT_API_AUTH_STRING`` is the Prefect server's login (``user:password``): the server
  gets it as ``PREFECT_SERVER_API_AUTH_STRING`` and refuses any API call without it (401);
  workers, ``r42`` and ``prefect`` send it, and coordinators type it on the UI's login page.
"""

from __future__ import annotations

import os
import secrets
import shlex
from pathlib import Path

LINK_SECRET = "R42_WEB_FORM__LINK_SECRET"
API_AUTH = "PREFECT_API_AUTH_STRING"
AUTH_USER = "r42"


def generate() -> dict[str, str]:
    return {
        LINK_SECRET: secrets.token_urlsafe(48),  # 64 characters, 384 bits
        API_AUTH: f"{AUTH_USER}:{secrets.token_urlsafe(32)}",
    }


def secrets_path(state: Path) -> Path:
    return state / "secrets.env"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only, never wider even for an instant."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    os.chmod(temporary, 0o600)  # whatever the umask
    os.replace(temporary, path)


def read(path: Path) -> dict[str, str]:
    values = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = shlex.split(line.removeprefix("export "))
        if len(parts) != 1 or "=" not in parts[0]:
            raise ValueError(f"{path}:{number}: expected NAME=value")
        name, _, value = parts[0].partition("=")
        values[name] = value
    return values


def layout_secrets(state: Path) -> dict[str, str]:
    """The stored secrets, generating those missing (first start, or a file from before)."""
    path = secrets_path(state)
    stored = read(path) if path.exists() else {}
    missing = {k: v for k, v in generate().items() if not stored.get(k)}
    if missing or (path.exists() and path.stat().st_mode & 0o077):
        stored = {**stored, **missing}
        write_private(
            path,
            "# Secrets of this production layout, made once by `up`: keep this file private.\n"
            + "".join(f"{k}={shlex.quote(v)}\n" for k, v in sorted(stored.items())),
        )
    return stored


def write_settings(path: Path, env: dict[str, str], *, home: Path, bin_dir: Path) -> Path:
    """The layout's settings for a shell (`. env.sh`), secrets included, so mode 600, with the
    project's commands (`prefect`, `r42`) first on PATH."""
    lines = [f"export {k}={shlex.quote(v)}" for k, v in sorted(env.items())]
    write_private(
        path,
        f"# Settings of the local production set-up: `. {path}` (holds secrets: mode 600)\n"
        + "\n".join(lines)
        + f"\nexport PREFECT_HOME={shlex.quote(str(home))}\n"
        + f'export PATH={shlex.quote(str(bin_dir))}:"$PATH"\n',
    )
    return path
