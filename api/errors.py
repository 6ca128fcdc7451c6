"""API errors: each carries its HTTP status and code; one place renders them, and the schema documents them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

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
    status = 422  # a field over its declared maxLength: a validation error, not an oversized body (413)
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


class BodyTooLarge(StarletteHTTPException):
    """Raised while a request body streams in, once it passes the cap; FastAPI re-raises it unchanged."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"请求体过大（最多 {limit} 字节）。")


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: str = Field(description="machine-readable code, e.g. rate_limited")
    message: str = Field(description="what went wrong, in Chinese, fit to show the citizen")


DESCRIPTIONS = {
    400: "Bad request (empty message, malformed XML or update)",
    401: "Not logged in, or the API key is unknown or disabled",
    403: "Signature, secret token or CSRF token refused, or the caller's role may not do this",
    404: "Not found, or the channel is not enabled",
    413: "Request body over the size cap",
    422: "Request does not match the schema (the message names the field)",
    429: "Rate limit reached (per session and per client address)",
    500: "Internal error (no details are given)",
    503: "A service behind the API (Rasa, Telegram) is unavailable",
}
HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}
HTTP_MESSAGES = {400: "请求格式不正确。", 404: "没有这个地址。", 405: "不支持这个请求方法。"}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries with the error body, for a route's ``responses=``."""
    return {status: {"model": ErrorBody, "description": DESCRIPTIONS[status]} for status in statuses}


def allowed_methods(request: Request) -> str:
    """The methods the schema documents for the request's path, for a 405's Allow header."""
    methods: set[str] = set()
    for path, operations in request.app.openapi()["paths"].items():
        if compile_path(path)[0].match(request.url.path):
            methods |= {method.upper() for method in operations}
    return ", ".join(sorted(methods))


ValidationTranslator = Callable[[RequestValidationError], "ApiError | None"]


def add_validation_translator(app: FastAPI, translator: ValidationTranslator) -> None:
    """Let a router give validation errors of its own fields its domain's code and status (None: not its own)."""
    app.state.validation_translators = [*getattr(app.state, "validation_translators", []), translator]


def _body(code: str, message: str) -> dict[str, str]:
    return {"error": code, "message": message}


def _text_error(errors: list[Any]) -> ApiError | None:
    """The chat message's own limits, reported as clearly as the assistant reports them."""
    if not errors or any(tuple(e.get("loc", ())) != ("body", "text") for e in errors):
        return None
    error = errors[0]
    if error.get("type") == "string_too_long":
        return MessageTooLong(f"消息太长了（最多 {error['ctx']['max_length']} 字），请精简后再问。")
    if error.get("type") in {"string_too_short", "string_pattern_mismatch"}:
        return EmptyMessage("消息不能为空。")
    return None


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to ``{"error": code, "message": text}``; never echo the request, never leak a traceback."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(_body(error.code, error.message), status_code=error.status)

    @app.exception_handler(KnowledgeError)
    async def _knowledge_error(_: Request, error: KnowledgeError) -> JSONResponse:
        return JSONResponse(_body(error.code, error.message), status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        for translate in getattr(request.app.state, "validation_translators", ()):
            if (own := translate(error)) is not None:
                return JSONResponse(_body(own.code, own.message), status_code=own.status)
        if (text_error := _text_error(list(error.errors()))) is not None:
            return JSONResponse(_body(text_error.code, text_error.message), status_code=text_error.status)
        broken = [e for e in error.errors() if e.get("type") == "json_invalid"]
        if broken:  # its loc is a character offset, not a field: say what is wrong and where
            at = broken[0]["loc"][-1]
            message = f"请求格式不正确：不是有效的 JSON（第 {at} 个字符处）"
            return JSONResponse(_body("invalid_request", message), status_code=422)
        fields = sorted({".".join(str(p) for p in e["loc"] if p != "body") or "body" for e in error.errors()})
        return JSONResponse(_body("invalid_request", f"请求格式不正确：{', '.join(fields)}"), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(error.status_code, "http_error")
        if isinstance(error, BodyTooLarge):
            message = str(error.detail)
        else:  # Starlette's English detail (e.g. "Not Found") is replaced by a Chinese one
            message = HTTP_MESSAGES.get(error.status_code, "请求无法处理。")
        headers = dict(error.headers or {})
        if error.status_code == 405:  # every method of the path, not only those of the first route matched
            headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
        return JSONResponse(_body(code, message), status_code=error.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def _internal(_: Request, error: Exception) -> JSONResponse:
        # the traceback goes to the server log (uvicorn logs what this handler re-raises); the client learns nothing
        return JSONResponse(_body("internal", "服务内部错误，请稍后重试。"), status_code=500)

