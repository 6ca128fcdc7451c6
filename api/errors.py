"""API errors: each carries its HTTP status and code; one handler renders them."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from knowledge.errors import KnowledgeError


class ApiError(Exception):
    """An error a client can act on: status, machine code, Chinese message."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EmptyMessage(ApiError):
    code = "empty_message"


class MessageTooLong(ApiError):
    status = 413
    code = "message_too_long"


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"


class AssistantUnavailable(ApiError):
    status = 503
    code = "assistant_unavailable"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


def _body(code: str, message: str) -> dict[str, str]:
    return {"error": code, "message": message}


def install_error_handlers(app: FastAPI) -> None:
    """Map every domain error to ``{"error": code, "message": text}``; never echo the request."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(_body(error.code, error.message), status_code=error.status)

    @app.exception_handler(KnowledgeError)
    async def _knowledge_error(_: Request, error: KnowledgeError) -> JSONResponse:
        return JSONResponse(_body(error.code, error.message), status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        fields = sorted({".".join(str(p) for p in e["loc"] if p != "body") or "body" for e in error.errors()})
        return JSONResponse(_body("invalid_request", f"请求格式不正确：{', '.join(fields)}"), status_code=422)
