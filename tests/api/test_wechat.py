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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from pydantic import SecretStr
from wechatpy.crypto import WeChatCrypto

from api.settings import WeChatSettings

from ..servers import Stack
from .conftest import REDIS_URL, RunningApi, app_settings, serve_api
from .fakes import FakeWeChatApi

TOKEN = "wechat-callback-token-7f3a"
AES_KEY = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode().rstrip("=")  # 43 characters
ACCOUNT = "gh_0a1b2c3d4e5f"  # the official account's own id (ToUserName)
LOAN_QUESTION = "个人创业担保贷款最高能贷多少？"
LOAN_DOC_NUMBER = "青人社发〔2023〕9号"


def wechat_settings(fake: FakeWeChatApi, deadline_s: float = 60.0, safe_mode: bool = False) -> WeChatSettings:
    """The account's settings; the reply deadline is a minute unless a test is about the deadline itself.

    WeChat's own window is 5 s (the setting's maximum); a test reading the passive reply's content must not
    depend on how loaded the machine is (test_a_slow_answer_is_acknowledged_and_pushed_later covers the window).
    """
    settings = WeChatSettings(
        enabled=True,
        token=SecretStr(TOKEN),
        app_id=fake.app_id,
        app_secret=SecretStr(fake.secret),
        encoding_aes_key=SecretStr(AES_KEY if safe_mode else ""),
        api_base_url=fake.url,
        reply_deadline_s=min(deadline_s, 5.0),
    )
    settings.reply_deadline_s = deadline_s  # assignment is not validated: beyond the 5 s maximum on purpose
    return settings


@pytest.fixture(scope="module")
def wechat_api(
    warm_stack: Stack, fake_wechat: FakeWeChatApi, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApi]:
    """An account in plain mode (明文模式)."""
    settings = app_settings(warm_stack, tmp_path_factory.mktemp("wechat-api"))
    settings.rasa.timeout_s = 60
    settings.wechat = wechat_settings(fake_wechat)
    with serve_api(settings) as running:
        yield running


@pytest.fixture(scope="module")
def safe_wechat_api(
    warm_stack: Stack, fake_wechat: FakeWeChatApi, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApi]:
    """An account in safe mode (安全模式): an EncodingAESKey is configured."""
    settings = app_settings(warm_stack, tmp_path_factory.mktemp("safe-wechat-api"))
    settings.rasa.timeout_s = 60
    settings.wechat = wechat_settings(fake_wechat, safe_mode=True)
    with serve_api(settings) as running:
        yield running


def openid() -> str:
    return f"o6_bmjrPTlm6_{uuid.uuid4().hex[:16]}"


def msg_id() -> str:
    return str(secrets.randbelow(10**18) + 10**18)


def signed(token: str = TOKEN, age_s: int = 0) -> dict[str, str]:
    """Query parameters the way WeChat signs them: sha1 of the sorted token, timestamp and nonce."""
    timestamp, nonce = str(int(time.time()) - age_s), str(secrets.randbelow(10**9))
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


def test_safe_mode_question_gets_an_encrypted_reply(safe_wechat_api: RunningApi) -> None:
    user = openid()
    crypto = WeChatCrypto(TOKEN, AES_KEY, safe_wechat_api.settings.wechat.app_id)
    query = signed()
    envelope = ElementTree.fromstring(crypto.encrypt_message(text_xml(user, LOAN_QUESTION, msg_id()), query["nonce"]))
    # WeChat signs the encrypted body with the same token, timestamp and nonce as the URL
    encrypted = envelope.findtext("Encrypt") or ""
    msg_signature = hashlib.sha1("".join(sorted([TOKEN, query["timestamp"], query["nonce"], encrypted])).encode())
    body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"

    response = post(
        safe_wechat_api, body, {**query, "encrypt_type": "aes", "msg_signature": msg_signature.hexdigest()}
    )

    assert response.status_code == 200, response.text
    sealed = ElementTree.fromstring(response.text)
    assert sealed.findtext("Encrypt") and sealed.find("Content") is None  # nothing readable in transit
    plain = crypto.decrypt_message(
        response.text, sealed.findtext("MsgSignature"), sealed.findtext("TimeStamp"), sealed.findtext("Nonce")
    )
    root = ElementTree.fromstring(plain)
    assert root.findtext("ToUserName") == user
    assert "30万元" in (root.findtext("Content") or "")


def test_forged_signature_is_refused_and_nothing_is_processed(
    wechat_api: RunningApi, safe_wechat_api: RunningApi
) -> None:
    before, safe_before = wechat_api.logged(), safe_wechat_api.logged()  # after earlier tests' turns are written

    plain = post(wechat_api, text_xml(openid(), LOAN_QUESTION, msg_id()), signed("stolen-or-guessed"))
    bad_body_signature = post(
        safe_wechat_api,
        "<xml><Encrypt><![CDATA[AAAA]]></Encrypt></xml>",
        {**signed(), "encrypt_type": "aes", "msg_signature": "0" * 40},
    )

    assert plain.status_code == bad_body_signature.status_code == 403
    assert plain.json()["error"] == "forbidden"
    assert wechat_api.logged() == before
    assert safe_wechat_api.logged() == safe_before


def test_a_stale_timestamp_is_refused_even_when_correctly_signed(wechat_api: RunningApi) -> None:
    before = wechat_api.logged()

    # 30 s past the 300 s window either way: a second's margin let a slow request arrive back inside it
    replayed_later = post(wechat_api, text_xml(openid(), LOAN_QUESTION, msg_id()), signed(age_s=330))
    verification = httpx.get(f"{wechat_api.url}/wechat", params={**signed(age_s=7200), "echostr": "42"})
    from_the_future = post(wechat_api, text_xml(openid(), LOAN_QUESTION, msg_id()), signed(age_s=-330))

    assert replayed_later.status_code == verification.status_code == from_the_future.status_code == 403
    assert "时间" in replayed_later.json()["message"]
    assert "42" not in verification.text
    assert wechat_api.logged() == before


def test_a_reused_nonce_cannot_carry_another_message(wechat_api: RunningApi) -> None:
    user, captured = openid(), signed()
    first = reply_of(post(wechat_api, text_xml(user, LOAN_QUESTION, msg_id()), captured), user)
    before = wechat_api.logged()

    forged = post(wechat_api, text_xml(openid(), "低保怎么申请？", msg_id()), captured)

    assert "30万元" in first
    assert forged.status_code == 403
    assert forged.json()["error"] == "forbidden"
    assert wechat_api.logged() == before


def test_a_captured_request_replayed_verbatim_is_refused_and_logged_once(wechat_api: RunningApi) -> None:
    user, query = openid(), signed()
    xml = text_xml(user, LOAN_QUESTION, msg_id())
    before = wechat_api.logged()

    first = reply_of(post(wechat_api, xml, query), user)
    replayed = post(wechat_api, xml, query)  # the same URL, signature, nonce and body

    assert "30万元" in first
    assert replayed.status_code == 403
    assert "30万元" not in replayed.text
    assert wechat_api.logged() == before + 1


def test_safe_mode_refuses_plain_messages(safe_wechat_api: RunningApi) -> None:
    before = safe_wechat_api.logged()

    response = post(safe_wechat_api, text_xml(openid(), LOAN_QUESTION, msg_id()))

    assert response.status_code == 403
    assert "明文" in response.json()["message"]
    assert safe_wechat_api.logged() == before


def test_xml_with_a_dtd_or_entities_is_refused(wechat_api: RunningApi) -> None:
    before = wechat_api.logged()
    user = openid()
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "创业担保贷款"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        + text_xml(user, "&b;", msg_id())
    )

    response = post(wechat_api, bomb)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_xml"
    assert wechat_api.logged() == before


def test_a_retried_message_gets_the_same_reply_and_is_logged_once(wechat_api: RunningApi) -> None:
    user, message = openid(), msg_id()
    before = wechat_api.logged()

    first = reply_of(post(wechat_api, text_xml(user, LOAN_QUESTION, message)), user)
    retry = reply_of(post(wechat_api, text_xml(user, LOAN_QUESTION, message)), user)

    assert first == retry and "30万元" in first
    assert wechat_api.logged() == before + 1


def test_a_message_delivered_to_two_processes_sharing_redis_is_answered_once(
    warm_stack: Stack, fake_wechat: FakeWeChatApi, tmp_path: Path
) -> None:
    """Two API processes behind one account (a retry may reach either): the MsgId is claimed in Redis."""
    settings = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        one = app_settings(warm_stack, tmp_path / name)
        one.rasa.timeout_s = 60
        one.chat.rate_storage = REDIS_URL
        one.wechat = wechat_settings(fake_wechat)
        settings.append(one)
    user = openid()
    xml = text_xml(user, LOAN_QUESTION, msg_id())

    def pushed() -> list[str]:
        return [m["text"]["content"] for m in fake_wechat.delivered if m["touser"] == user]

    with serve_api(settings[0]) as first, serve_api(settings[1]) as second, ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(lambda api: post(api, xml), [first, second, second]))
        passive = [reply_of(r, user) for r in responses if r.text != "success"]
        if len(passive) < len(responses):  # the answer took longer than the deadline: it is pushed, once
            fake_wechat.wait_until(lambda: len(pushed()) == 1)

        assert len(set(passive + pushed())) == 1
        assert "30万元" in (passive + pushed())[0]
        assert first.logged() + second.logged() == 1
        assert len(pushed()) <= 1


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
