"""The edge of the API process: a cap on every request body, and access-log lines without query strings."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import BodyTooLarge


class BodyLimit:
    """ASGI middleware: a body over ``max_bytes`` gets 413 before any route parses it, counted as it streams.

    A declared Content-Length over the cap is refused without reading; a chunked body (no Content-Length)
    is refused the moment its bytes pass the cap, so nothing past the cap is ever buffered.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)  # rendered by the app's handler as a 413
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(send)  # read outside a route (no handler saw it): answer here

    async def _refuse(self, send: Send) -> None:
        error = BodyTooLarge(self.max_bytes)
        body = json.dumps({"error": "body_too_large", "message": error.detail}, ensure_ascii=False).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": [*headers, (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class QuerylessAccessLog(logging.Filter):
    """Drops the query string from uvicorn's access lines: /wechat's carries the signature, nonce and openid."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def configure_logging() -> None:
    """Logging for an entry point of the API process: our lines on stderr, nothing that carries a secret."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines carry tokens in URLs


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration with :class:`QuerylessAccessLog` on its access logger."""
    from uvicorn.config import LOGGING_CONFIG  # only the entry point that runs uvicorn needs it

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["queryless"] = {"()": f"{__name__}.QuerylessAccessLog"}
    config["loggers"]["uvicorn.access"]["filters"] = ["queryless"]
    return config
