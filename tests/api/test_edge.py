"""The edge of the API: body caps on every route, the catch-all 500, and access logs without secrets or text."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from api.app import create_app
from api.settings import TelegramSettings, WeChatSettings

from ..servers import ROOT, Stack, free_port
from .conftest import RunningApi, app_settings, serve_api
from .fakes import FakeTelegramApi, FakeWeChatApi

CAP = 16_384
TOKEN = "edge-wechat-token-5b1c"
SECRET = "edge-telegram-secret_42"


def signed() -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**9))
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


@pytest.fixture(scope="module")
def capped_api(
    warm_stack: Stack,
    fake_wechat: FakeWeChatApi,
    fake_telegram: FakeTelegramApi,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningApi]:
    """Every channel enabled, bodies capped at 16 KiB."""
    settings = app_settings(warm_stack, tmp_path_factory.mktemp("capped-api"))
    settings.server.max_body_bytes = CAP
    settings.wechat = WeChatSettings(
        enabled=True, token=SecretStr(TOKEN), app_id=fake_wechat.app_id, app_secret=SecretStr(fake_wechat.secret),
        api_base_url=fake_wechat.url,
    )
    settings.telegram = TelegramSettings(
        enabled=True, token=SecretStr(fake_telegram.token), secret_token=SecretStr(SECRET),
        base_url=fake_telegram.base_url,
    )
    with serve_api(settings) as running:
        yield running


ROUTES = ["/api/chat", "/api/feedback", "/wechat", "/telegram/webhook"]  # every route that takes a body


def reaching(path: str) -> tuple[dict[str, str], dict[str, str]]:
    """Query and headers that get a request to ``path`` as far as reading its body (signed now: fresh)."""
    if path == "/wechat":
        return signed(), {"Content-Type": "text/xml"}
    if path == "/telegram/webhook":
        return {}, {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    return {}, {"Content-Type": "application/json"}


def oversized_json() -> bytes:
    """Just over the cap (small enough to be sent whole before the 413 is read)."""
    return json.dumps({"session_id": "s1", "text": "创" * (CAP // 3 + 10)}, ensure_ascii=False).encode()


@pytest.mark.parametrize("path", ROUTES)
def test_a_body_over_the_cap_is_refused_with_413(capped_api: RunningApi, path: str) -> None:
    params, headers = reaching(path)

    response = httpx.post(f"{capped_api.url}{path}", params=params, content=oversized_json(), headers=headers)

    assert response.status_code == 413
    assert response.json() == {"error": "body_too_large", "message": f"请求体过大（最多 {CAP} 字节）。"}


@pytest.mark.parametrize("path", ROUTES)
def test_a_chunked_body_is_refused_once_it_passes_the_cap(capped_api: RunningApi, path: str) -> None:
    params, headers = reaching(path)

    def chunks() -> Iterator[bytes]:
        for _ in range(5):  # 5 × 4 KiB without a Content-Length: the fifth chunk passes the cap
            yield b"x" * 4096

    response = httpx.post(f"{capped_api.url}{path}", params=params, content=chunks(), headers=headers, timeout=30)

    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"


def test_a_body_under_the_cap_is_answered(capped_api: RunningApi) -> None:
    body = {"session_id": f"edge-{uuid.uuid4().hex[:8]}", "text": "个人创业担保贷款最高能贷多少？"}

    response = httpx.post(f"{capped_api.url}/api/chat", json=body, timeout=60)

    assert response.status_code == 200
    assert "30万元" in response.json()["answer"]


def test_an_unexpected_error_gets_a_500_without_details(warm_stack: Stack, tmp_path: Path) -> None:
    settings = app_settings(warm_stack, tmp_path)
    app = create_app(settings)

    @app.get("/api/boom")
    async def boom() -> None:  # a bug in some route, stood in for by one that fails
        raise RuntimeError("database password is hunter2")

    with serve_api(settings, app) as api:
        response = httpx.get(f"{api.url}/api/boom")

    assert response.status_code == 500
    assert response.json() == {"error": "internal", "message": "服务内部错误，请稍后重试。"}
    assert "hunter2" not in response.text and "RuntimeError" not in response.text


def test_unknown_paths_and_methods_get_the_error_body(capped_api: RunningApi) -> None:
    missing = httpx.get(f"{capped_api.url}/api/nothing-here")
    wrong_method = httpx.get(f"{capped_api.url}/api/chat")

    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    assert (wrong_method.status_code, wrong_method.json()["error"]) == (405, "method_not_allowed")


def test_access_log_has_no_wechat_query_string_nor_message_text(
    warm_stack: Stack, fake_wechat: FakeWeChatApi, tmp_path: Path
) -> None:
    """``python -m api`` as deployed: its access lines name the path, never the signature, nonce, openid or text."""
    port = free_port()
    env = {
        **os.environ,
        **warm_stack.env,
        "POLICY_RASA__URL": warm_stack.rasa_url,
        "POLICY_RASA__ACTIONS_URL": warm_stack.actions_url,
        "POLICY_RASA__TIMEOUT_S": "60",
        "POLICY_SERVER__PORT": str(port),
        "POLICY_CONVERSATION_LOG__URL": f"sqlite:///{tmp_path}/conversations.db",
        "POLICY_CONVERSATION_LOG__SPOOL": str(tmp_path / "spool.jsonl"),
        "POLICY_WECHAT__ENABLED": "true",
        "POLICY_WECHAT__TOKEN": TOKEN,
        "POLICY_WECHAT__APP_ID": fake_wechat.app_id,
        "POLICY_WECHAT__APP_SECRET": fake_wechat.secret,
        "POLICY_WECHAT__API_BASE_URL": fake_wechat.url,
    }
    user, marker = f"o6_openid{uuid.uuid4().hex[:12]}", f"标记{uuid.uuid4().hex[:8]}"
    query = signed()
    xml = (
        f"<xml><ToUserName><![CDATA[gh_edge]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{marker}低保怎么申请？]]></Content><MsgId>{secrets.randbelow(10**18)}</MsgId></xml>"
    )
    url = f"http://127.0.0.1:{port}"
    with open(tmp_path / "api.log", "wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "api"], cwd=ROOT, env=env, stdout=out, stderr=out)
        try:
            _wait_for_api(url, server)
            wechat = httpx.post(f"{url}/wechat", params={**query, "openid": user}, content=xml.encode(), timeout=60)
            chat = httpx.post(f"{url}/api/chat", json={"session_id": "edge-log", "text": marker}, timeout=60)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
    output = (tmp_path / "api.log").read_text(errors="replace")

    assert wechat.status_code == chat.status_code == 200, output[-2000:]
    assert '"POST /wechat HTTP/1.1" 200' in output and '"POST /api/chat HTTP/1.1" 200' in output
    for secret in (query["signature"], query["nonce"], user, marker, "signature=", "openid="):
        assert secret not in output


def _wait_for_api(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.get(f"{url}/openapi.json", timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"python -m api did not start (exit code {process.poll()})")
