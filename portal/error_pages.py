"""What the portal answers when a route cannot: a refused link, a body too large, an unknown
page, a busy database, an unexpected error. Always a Vietnamese page, never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from config.settings import get_settings
from portal.access import LinkRefused
from portal.guard import refuse, safe_path
from portal.limits import BodyTooLarge, FormRefused, size_text
from portal.pages import UNAVAILABLE, page

logger = logging.getLogger("portal")


async def on_refused(http: Request, refusal: LinkRefused) -> Response:
    return await refuse(http, refusal)


async def on_too_large(http: Request, exc: BodyTooLarge) -> HTMLResponse:
    upload = http.url.path.endswith("/tai-len")
    return page(
        "message",
        413,
        title="Tệp quá lớn" if upload else "Dữ liệu gửi lên quá lớn",
        message=(f"Tệp tải lên tối đa {size_text(get_settings().web_form.max_upload_bytes)}."
                 if upload else
                 f"Dữ liệu gửi lên vượt quá {size_text(exc.limit)}. Dữ liệu chưa được lưu; "
                 "vui lòng rút gọn nội dung rồi gửi lại."),
    )  # fmt: skip


async def on_form_refused(http: Request, exc: FormRefused) -> HTMLResponse:
    logger.warning("refused form on %s: %s", safe_path(http.url.path), exc.reason)
    return page(
        "message",
        exc.status_code,
        title="Dữ liệu gửi lên quá lớn" if exc.status_code == 413 else "Yêu cầu không hợp lệ",
        message="Dữ liệu gửi lên không đúng biểu mẫu hoặc quá lớn; dữ liệu chưa được lưu. "
        "Vui lòng tải lại trang biểu mẫu.",
    )


async def on_http_error(http: Request, exc: StarletteHTTPException) -> HTMLResponse:
    title = {
        404: "Không tìm thấy trang",
        405: "Thao tác không được hỗ trợ",
        413: "Tệp quá lớn",
    }.get(exc.status_code, "Yêu cầu không hợp lệ")
    return page(
        "message",
        exc.status_code,
        title=title,
        message="Vui lòng mở lại đường dẫn trong thư đề nghị báo cáo.",
    )


async def on_invalid(http: Request, exc: RequestValidationError) -> HTMLResponse:
    return page(
        "message",
        422,
        title="Yêu cầu không hợp lệ",
        message="Dữ liệu gửi lên không đúng biểu mẫu. Vui lòng tải lại trang.",
    )


async def on_unavailable(http: Request, exc: Exception) -> HTMLResponse:
    """The database is busy past its timeout, or down: nothing was stored (the transaction
    rolled back), and the agency is asked to come back."""
    logger.warning("database unavailable on %s: %s", safe_path(http.url.path), exc)
    response = page("message", 503, title=UNAVAILABLE[0], message=UNAVAILABLE[1])
    response.headers["Retry-After"] = "60"
    return response


async def on_error(http: Request, exc: Exception) -> HTMLResponse:
    logger.exception("unexpected error on %s", safe_path(http.url.path))
    return page(
        "message",
        500,
        title="Đã có lỗi xảy ra",
        message="Hệ thống gặp sự cố. Dữ liệu chưa được lưu; vui lòng thử lại sau.",
    )


ERROR_PAGES: dict[type[Exception], Callable[[Request, Exception], Awaitable[Response]]] = {
    LinkRefused: on_refused,
    BodyTooLarge: on_too_large,
    FormRefused: on_form_refused,
    StarletteHTTPException: on_http_error,
    RequestValidationError: on_invalid,
    OperationalError: on_unavailable,
    SATimeoutError: on_unavailable,
    Exception: on_error,
}  # type: ignore[dict-item]
