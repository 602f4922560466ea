"""The agencies' web form: one FastAPI app, Vietnamese pages, reached only by personal links.

Its routes are one ``APIRouter`` per resource: the agency's form (``portal.agency_form``), its
receipts (``portal.receipts``), the Excel form to download and upload (``portal.uploads``), the
request for more time (``portal.extension_form``) and the health check and script
(``portal.assets``). They are given the clock and the session by ``portal.dependencies``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from config.settings import get_settings
from portal import agency_form, assets, extension_form, receipts, uploads
from portal.access import RefusalLog
from portal.dependencies import app_time
from portal.error_pages import ERROR_PAGES
from portal.guard import LinkGuard, SecurityHeaders, hide_tokens_in_access_log
from portal.receipts import ReceiptSender


def create_app() -> FastAPI:
    get_settings()  # unsafe settings (a placeholder link secret...) refuse to start the form
    hide_tokens_in_access_log()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(app.state.refusals.flush_all)  # the last counts of refusals
        await run_in_threadpool(app.state.receipts.stop)  # what is due goes now, or stays pending

    app = FastAPI(
        title="Báo cáo Nghị quyết 42",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        exception_handlers=ERROR_PAGES,
    )
    app.state.refusals = RefusalLog()
    app.state.receipts = ReceiptSender(lambda: app_time(app))
    app.add_middleware(LinkGuard)
    app.add_middleware(SecurityHeaders)  # the outer one: refusals get the headers too
    for resource in (assets, agency_form, receipts, uploads, extension_form):
        app.include_router(resource.router)
    return app
