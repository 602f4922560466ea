"""What the portal serves outside any link: its health check and the form's script."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from documents.templating import TEMPLATES_DIR

FORM_SCRIPT = (TEMPLATES_DIR / "portal" / "form.js").read_bytes()

router = APIRouter(include_in_schema=False)


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/tai-nguyen/bieu-mau.js")
def form_script() -> Response:
    """The form's character counters (a file: the page's CSP allows no inline script)."""
    return Response(FORM_SCRIPT, media_type="text/javascript; charset=utf-8")
