"""Fakes of the servers we cannot run here: the WeChat API and the Telegram Bot API, on 127.0.0.1.

Each is a tiny ``http.server`` that answers like the real service for the calls we make and records
every request it received, so tests assert on what actually went over the wire.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Received:
    """One request as the fake saw it: method, path, query, and the decoded body (JSON or form)."""

    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)


class FakeServer:
    """Routes requests to ``answer`` and records them; ``wait_for`` polls the record."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self.url = ""

    def answer(self, request: Received) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError

    def calls(self, path_end: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path.endswith(path_end)]

    def wait_until(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met in {timeout:.0f} s; received: {self.received}")
            time.sleep(0.05)

    def wait_for(self, path_end: str, count: int = 1, timeout: float = 30.0) -> list[Received]:
        """The requests to ``path_end`` once at least ``count`` arrived; fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while len(found := self.calls(path_end)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} call(s) to {path_end} expected, got {len(found)}: {self.received}")
            time.sleep(0.05)
        return found

    def _record(self, request: Received) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.received.append(request)
        return self.answer(request)

    @contextmanager
    def running(self) -> Iterator[FakeServer]:
        record: Callable[[Received], tuple[int, dict[str, Any]]] = self._record

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload = record(
                    Received(
                        self.command,
                        parts.path,
                        dict(parse_qsl(parts.query)),
                        _decode(raw, self.headers.get("Content-Type") or ""),
                    )
                )
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, name=type(self).__name__, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()


def _decode(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type:
        return dict(json.loads(raw))
    return dict(parse_qsl(raw.decode()))


class FakeWeChatApi(FakeServer):
    """``/cgi-bin/token`` and ``/cgi-bin/message/custom/send``; ``fail_next`` errcodes are returned first."""

    def __init__(self, app_id: str, secret: str) -> None:
        super().__init__()
        self.app_id = app_id
        self.secret = secret
        self.tokens: list[str] = []
        self.fail_next: list[int] = []
        self.delivered: list[dict[str, Any]] = []  # bodies of the messages accepted (errcode 0)

    def answer(self, request: Received) -> tuple[int, dict[str, Any]]:
        if request.path == "/cgi-bin/token":
            q = request.query
            if q.get("grant_type") != "client_credential" or (q.get("appid"), q.get("secret")) != (
                self.app_id,
                self.secret,
            ):
                return 200, {"errcode": 40013, "errmsg": "invalid appid"}
            self.tokens.append(f"ACCESS_TOKEN_{uuid.uuid4().hex}")
            return 200, {"access_token": self.tokens[-1], "expires_in": 7200}
        if request.path == "/cgi-bin/message/custom/send":
            if request.query.get("access_token") not in self.tokens:
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            if self.fail_next:
                return 200, {"errcode": self.fail_next.pop(0), "errmsg": "system busy"}
            self.delivered.append(request.body)
            return 200, {"errcode": 0, "errmsg": "ok"}
        return 404, {"errcode": 404, "errmsg": "not found"}


BOT_USER = {
    "id": 7000001,
    "is_bot": True,
    "first_name": "政策咨询助手",
    "username": "policy_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


class FakeTelegramApi(FakeServer):
    """``/bot<token>/<method>``: getMe, getUpdates, sendMessage, answerCallbackQuery (anything else: ``true``)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.updates: list[dict[str, Any]] = []  # handed out once by getUpdates (long polling)
        self._message_ids = iter(range(1, 1_000_000))

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    def answer(self, request: Received) -> tuple[int, dict[str, Any]]:
        prefix = f"/bot{self.token}/"
        if not request.path.startswith(prefix):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method = request.path.removeprefix(prefix)
        if method == "getMe":
            return 200, {"ok": True, "result": BOT_USER}
        if method == "getUpdates":
            pending, self.updates = self.updates, []
            if not pending:
                time.sleep(0.2)  # a short long-poll, so a polling bot does not spin
            return 200, {"ok": True, "result": pending}
        if method == "sendMessage":
            chat_id = int(request.body["chat_id"])
            message = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "from": BOT_USER,
                "chat": {"id": chat_id, "type": "private"},
                "text": request.body.get("text", ""),
            }
            return 200, {"ok": True, "result": message}
        return 200, {"ok": True, "result": True}

    def sent(self) -> list[dict[str, Any]]:
        """sendMessage bodies, oldest first (reply_markup decoded)."""
        bodies = []
        for call in self.calls("/sendMessage"):
            body = dict(call.body)
            if "reply_markup" in body:
                body["reply_markup"] = json.loads(body["reply_markup"])
            bodies.append(body)
        return bodies
