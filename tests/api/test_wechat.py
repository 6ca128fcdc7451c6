"""The WeChat callback end to end: real signed (and encrypted) requests to the real app over the real Rasa stack.

Only WeChat's own API (access token, customer-service messages) is a fake, on 127.0.0.1.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from pydantic import SecretStr
from wechatpy.crypto import WeChatCrypto

from api.settings import WeChatSettings

from ..servers import Stack
from .conftest import RunningApi, app_settings, serve_api, wait_until
from .fakes import FakeWeChatApi

TOKEN = "wechat-callback-token-7f3a"
AES_KEY = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode().rstrip("=")  # 43 characters
ACCOUNT = "gh_0a1b2c3d4e5f"  # the official account's own id (ToUserName)
LOAN_QUESTION = "个人创业担保贷款最高能贷多少？"
LOAN_DOC_NUMBER = "青人社发〔2023〕9号"


def wechat_settings(fake: FakeWeChatApi, deadline_s: float = 5.0) -> WeChatSettings:
    return WeChatSettings(
        enabled=True,
        token=SecretStr(TOKEN),
        app_id=fake.app_id,
        app_secret=SecretStr(fake.secret),
        encoding_aes_key=SecretStr(AES_KEY),
        api_base_url=fake.url,
        reply_deadline_s=deadline_s,
    )


@pytest.fixture(scope="module")
def wechat_api(
    warm_stack: Stack, fake_wechat: FakeWeChatApi, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApi]:
    settings = app_settings(warm_stack, tmp_path_factory.mktemp("wechat-api"))
    settings.rasa.timeout_s = 60
    settings.wechat = wechat_settings(fake_wechat)
    with serve_api(settings) as running:
        yield running


def openid() -> str:
    return f"o6_bmjrPTlm6_{uuid.uuid4().hex[:16]}"


def msg_id() -> str:
    return str(secrets.randbelow(10**18) + 10**18)


def signed(token: str = TOKEN) -> dict[str, str]:
    """Query parameters the way WeChat signs them: sha1 of the sorted token, timestamp and nonce."""
    timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**9))
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


def message_xml(user: str, kind: str, fields: str, message_id: str | None = None) -> str:
    msg = f"<MsgId>{message_id}</MsgId>" if message_id else ""
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>{fields}{msg}</xml>"
    )


def text_xml(user: str, text: str, message_id: str) -> str:
    return message_xml(user, "text", f"<Content><![CDATA[{text}]]></Content>", message_id)


def post(api: RunningApi, xml: str, params: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{api.url}/wechat", params=params or signed(), content=xml.encode(), timeout=60)


def reply_of(response: httpx.Response, user: str) -> str:
    """The passive text reply's content, after checking it goes from the account to this user."""
    assert response.status_code == 200, response.text
    root = ElementTree.fromstring(response.text)
    assert root.findtext("MsgType") == "text"
    assert (root.findtext("ToUserName"), root.findtext("FromUserName")) == (user, ACCOUNT)
    return root.findtext("Content") or ""


def logged(api: RunningApi) -> int:
    log = api.open_log()
    try:
        return log.count()
    finally:
        log.close()


def test_server_verification_echoes_echostr(wechat_api: RunningApi) -> None:
    response = httpx.get(f"{wechat_api.url}/wechat", params={**signed(), "echostr": "5837397520411547621"})

    assert response.status_code == 200
    assert response.text == "5837397520411547621"


def test_server_verification_with_a_bad_signature_is_forbidden(wechat_api: RunningApi) -> None:
    response = httpx.get(f"{wechat_api.url}/wechat", params={**signed("not-our-token"), "echostr": "123"})

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert "123" not in response.text


def test_text_question_gets_a_cited_answer(wechat_api: RunningApi) -> None:
    user = openid()

    content = reply_of(post(wechat_api, text_xml(user, LOAN_QUESTION, msg_id())), user)

    assert "30万元" in content
    assert LOAN_DOC_NUMBER in content
    assert "【现行有效】" in content and "https://" in content


def test_safe_mode_question_gets_an_encrypted_reply(wechat_api: RunningApi) -> None:
    user = openid()
    crypto = WeChatCrypto(TOKEN, AES_KEY, wechat_api.settings.wechat.app_id)
    query = signed()
    envelope = ElementTree.fromstring(crypto.encrypt_message(text_xml(user, LOAN_QUESTION, msg_id()), query["nonce"]))
    # WeChat signs the encrypted body with the same token, timestamp and nonce as the URL
    encrypted = envelope.findtext("Encrypt") or ""
    msg_signature = hashlib.sha1("".join(sorted([TOKEN, query["timestamp"], query["nonce"], encrypted])).encode())
    body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"

    response = post(wechat_api, body, {**query, "encrypt_type": "aes", "msg_signature": msg_signature.hexdigest()})

    assert response.status_code == 200, response.text
    sealed = ElementTree.fromstring(response.text)
    assert sealed.findtext("Encrypt") and sealed.find("Content") is None  # nothing readable in transit
    plain = crypto.decrypt_message(
        response.text, sealed.findtext("MsgSignature"), sealed.findtext("TimeStamp"), sealed.findtext("Nonce")
    )
    root = ElementTree.fromstring(plain)
    assert root.findtext("ToUserName") == user
    assert "30万元" in (root.findtext("Content") or "")


def test_forged_signature_is_refused_and_nothing_is_processed(wechat_api: RunningApi) -> None:
    before = logged(wechat_api)

    plain = post(wechat_api, text_xml(openid(), LOAN_QUESTION, msg_id()), signed("stolen-or-guessed"))
    bad_body_signature = post(
        wechat_api,
        "<xml><Encrypt><![CDATA[AAAA]]></Encrypt></xml>",
        {**signed(), "encrypt_type": "aes", "msg_signature": "0" * 40},
    )

    assert plain.status_code == bad_body_signature.status_code == 403
    assert plain.json()["error"] == "forbidden"
    time.sleep(0.5)  # a turn, if one were logged, is written by a background thread
    assert logged(wechat_api) == before


def test_xml_with_a_dtd_or_entities_is_refused(wechat_api: RunningApi) -> None:
    before = logged(wechat_api)
    user = openid()
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "创业担保贷款"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        + text_xml(user, "&b;", msg_id())
    )

    response = post(wechat_api, bomb)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_xml"
    time.sleep(0.5)
    assert logged(wechat_api) == before


def test_a_retried_message_gets_the_same_reply_and_is_logged_once(wechat_api: RunningApi) -> None:
    user, message = openid(), msg_id()
    before = logged(wechat_api)

    first = reply_of(post(wechat_api, text_xml(user, LOAN_QUESTION, message)), user)
    retry = reply_of(post(wechat_api, text_xml(user, LOAN_QUESTION, message)), user)

    assert first == retry and "30万元" in first
    assert wait_until(lambda: logged(wechat_api) == before + 1)
    time.sleep(0.5)
    assert logged(wechat_api) == before + 1


def test_voice_is_answered_from_its_recognition(wechat_api: RunningApi) -> None:
    user = openid()
    voice = "<MediaId><![CDATA[media-1]]></MediaId><Format><![CDATA[amr]]></Format>"

    recognised = message_xml(user, "voice", f"{voice}<Recognition><![CDATA[{LOAN_QUESTION}]]></Recognition>", msg_id())
    silent = message_xml(user, "voice", f"{voice}<Recognition></Recognition>", msg_id())

    heard = reply_of(post(wechat_api, recognised), user)
    unheard = reply_of(post(wechat_api, silent), user)

    assert "30万元" in heard
    assert "文字" in unheard and "30万元" not in unheard


def test_a_new_follower_is_welcomed(wechat_api: RunningApi) -> None:
    user = openid()

    welcome = reply_of(post(wechat_api, message_xml(user, "event", "<Event><![CDATA[subscribe]]></Event>")), user)

    assert "政策咨询助手" in welcome and "12345" in welcome


def test_an_image_gets_a_text_only_hint(wechat_api: RunningApi) -> None:
    user = openid()
    image = "<PicUrl><![CDATA[http://mmbiz.example/pic.jpg]]></PicUrl><MediaId><![CDATA[media-2]]></MediaId>"

    hint = reply_of(post(wechat_api, message_xml(user, "image", image, msg_id())), user)

    assert "文字" in hint


def test_a_numbered_reply_picks_one_of_the_offered_policies(wechat_api: RunningApi) -> None:
    user = openid()

    question = reply_of(post(wechat_api, text_xml(user, "创业补贴怎么申请", msg_id())), user)
    assert "青禾县大学生创业补贴实施办法" in question and "青禾县返乡入乡创业补贴办法" in question
    number = next(line.split(".")[0] for line in question.splitlines() if "大学生创业补贴" in line and ". " in line)

    chosen = reply_of(post(wechat_api, text_xml(user, number, msg_id())), user)

    assert "青人社发〔2024〕15号" in chosen  # the graduate subsidy's 文号


def test_a_slow_answer_is_acknowledged_and_pushed_later(
    warm_stack: Stack, fake_wechat: FakeWeChatApi, tmp_path: Path
) -> None:
    settings = app_settings(warm_stack, tmp_path)
    settings.rasa.timeout_s = 60
    settings.wechat = wechat_settings(fake_wechat, deadline_s=0.01)
    fake_wechat.fail_next = [-1]  # WeChat is busy once: the push is retried
    tokens_before = len(fake_wechat.calls("/cgi-bin/token"))
    user = openid()

    def pushed_to_user() -> list[dict[str, Any]]:
        return [m for m in fake_wechat.delivered if m["touser"] == user]

    with serve_api(settings) as api:
        response = post(api, text_xml(user, LOAN_QUESTION, msg_id()))

        assert response.status_code == 200
        assert response.text == "success"
        fake_wechat.wait_until(lambda: len(pushed_to_user()) == 1)
        [pushed] = pushed_to_user()
        assert pushed["msgtype"] == "text"
        assert "30万元" in pushed["text"]["content"] and LOAN_DOC_NUMBER in pushed["text"]["content"]
        assert len(fake_wechat.calls("/cgi-bin/token")) == tokens_before + 1  # cached across the retry

        # another server of the account fetched a token: ours is invalid (40001), a new one is fetched
        fake_wechat.tokens.clear()
        assert post(api, text_xml(user, "创业补贴怎么申请", msg_id())).text == "success"
        fake_wechat.wait_until(lambda: len(pushed_to_user()) == 2)

    assert "青人社发〔2024〕15号" in pushed_to_user()[1]["text"]["content"]
    assert len(fake_wechat.calls("/cgi-bin/token")) == tokens_before + 2


def test_disabled_wechat_answers_404(warm_stack: Stack, tmp_path: Path) -> None:
    with serve_api(app_settings(warm_stack, tmp_path)) as api:
        response = httpx.get(f"{api.url}/wechat", params={**signed(), "echostr": "1"})

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "POLICY_WECHAT__ENABLED" in response.json()["message"]
