"""Links guarded before any work: refusals counted and rate-limited, tokens kept out of logs."""

from __future__ import annotations

import datetime as dt
import logging
import time

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.settings import get_settings
from models.database import session_scope
from portal.access import INVALID, TOO_MANY, LinkRefused, RefusalLog, check_open
from portal.dependencies import app_time
from portal.pages import refused_page
from reporting.links import LinkError, link_secrets, read_token


def client_of(http: Request) -> str:
    return http.client.host if http.client else "?"


def token_of(path: str) -> str | None:
    """The personal link's token in '/bao-cao/<token>/...', if the path has one."""
    parts = path.split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "bao-cao" and parts[2] else None


def safe_path(path: str) -> str:
    """The path with the personal link's token replaced by its request id ('<link r12>'), or
    '<link invalid>': logs and the audit trail never hold a token."""
    token = token_of(path)
    if not token:
        return path
    try:
        claims = read_token(token, link_secrets(get_settings().web_form), today=None)
        shown = f"<link r{claims.request_id}>"
    except LinkError:
        shown = "<link invalid>"
    return path.replace(token, shown, 1)


class LinkTokenFilter(logging.Filter):
    """Uvicorn's access log line names the link's request, never its token."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], safe_path(args[2]), *args[3:])
        return True


def hide_tokens_in_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, LinkTokenFilter) for f in access.filters):
        access.addFilter(LinkTokenFilter())


async def refuse(http: Request, refusal: LinkRefused) -> Response:
    """The refused link's page, counted per client and minute; 429 past the rate limit."""
    log: RefusalLog = http.app.state.refusals
    client, moment = client_of(http), app_time(http.app)
    limit = get_settings().web_form.refusals_per_minute
    if log.over_limit(client, limit=limit, now=moment):
        refusal = LinkRefused(
            429, *TOO_MANY, "rate limited: " + refusal.reason, refusal.request_id, refusal.contact
        )
    await run_in_threadpool(
        log.record, refusal, client=client, path=safe_path(http.url.path), now=moment
    )
    response = await run_in_threadpool(refused_page, refusal)
    if refusal.status_code == 429:
        response.headers["Retry-After"] = "60"
    return response


CHECKED_FOR = 10.0  # seconds a link found open is not looked up again before a post's body
_checked: dict[str, float] = {}  # token -> when it was found open (time.monotonic)


def check_link(token: str, *, now: dt.datetime) -> None:
    """LinkRefused unless the link opens a request: checked before a post's body is read.

    A link found open is not looked up again for CHECKED_FOR seconds (an agency posting again
    and again): this check only spares reading the body of a dead link, and every post opens
    its link again in its own transaction (``open_request``) before anything is stored. It
    reads one row (``check_open``), not the request's objects: about 0.19 ms of CPU instead of
    0.45 ms (SQLite), paid by every first post of a link."""
    if recently_checked(token):
        return
    with session_scope() as session:
        check_open(token, session=session, settings=get_settings().web_form, now=now)
    if len(_checked) > 10_000:  # a bounded memory, whatever the number of links posting
        _checked.clear()
    _checked[token] = time.monotonic()


def recently_checked(token: str) -> bool:
    """Whether the link was found open less than CHECKED_FOR seconds ago (no thread needed)."""
    seen = _checked.get(token)
    return seen is not None and time.monotonic() - seen < CHECKED_FOR


SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
}


class LinkGuard:
    """A link whose signature fails is refused here, before any body or database work.

    Plain ASGI middlewares (this one and :class:`SecurityHeaders`), not ``@app.middleware``:
    Starlette's BaseHTTPMiddleware wraps every chunk of a request body in a task, which cost
    about a tenth of a form post's CPU time (benchmarks/portal_spike.py under py-spy)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = token_of(scope["path"]) if scope["type"] == "http" else None
        if token is not None:
            try:
                read_token(token, link_secrets(get_settings().web_form), today=None)
            except LinkError as exc:
                response = await refuse(Request(scope), LinkRefused(403, *INVALID, str(exc)))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """Every response: no referrer, no framing, no sniffing, no caching, a strict CSP."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(SECURITY_HEADERS)
            await send(message)

        await self.app(scope, receive, with_headers)
