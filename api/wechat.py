"""WeChat official account (公众号) callback: signed XML in, a passive text reply out, slow answers pushed later.

WeChat waits five seconds for the passive reply and then retries the same MsgId. An answer not ready within
``reply_deadline_s`` is acknowledged with ``success`` and sent when ready through the customer-service
message API. A MsgId is claimed in the shared keys (Redis when configured), so a retry, in this process or
another, never asks Rasa twice or logs the turn twice; it gets the first delivery's answer, or ``success``.

A signed URL is good for one body within five minutes: requests more than 300 s off our clock are refused,
and a nonce seen before with another body is refused, so a captured URL cannot carry a forged message.
"""

from __future__ import annotations

import asyncio
import binascii
import hashlib
import hmac
import logging
import struct
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any
from xml.etree.ElementTree import Element, ParseError, tostring

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import PlainTextResponse, Response
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import WeChatException
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

from knowledge.privacy import mask_personal_data

from .assistant import Assistant
from .errors import ApiError, BodyTooLarge, Forbidden, NotFound, error_responses
from .render import TEXT_ONLY, VOICE_UNRECOGNISED, WELCOME, choice_number, plain_text, welcome_text
from .seen import SharedKeys
from .services import Services
from .settings import WeChatSettings
from .wechat_client import WeChatApi, WeChatApiError

log = logging.getLogger(__name__)
router = APIRouter()

MAX_BODY_BYTES = 64 * 1024  # WeChat messages are a few hundred bytes
MAX_TEXT_BYTES = 2000  # WeChat cuts text messages beyond 2048 bytes
MAX_REMEMBERED = 10_000  # offered choices kept, oldest dropped first
SUBSCRIBE_EVENTS = frozenset({"subscribe"})  # a scan-to-subscribe is a subscribe event with an EventKey
SHUTDOWN_GRACE_S = 10.0
MAX_CLOCK_SKEW_S = 300  # WeChat signs with its clock; a request further off is stale (or replayed)
NONCE_TTL_S = 2 * MAX_CLOCK_SKEW_S + 60  # a nonce is remembered as long as its timestamp could be accepted
MSG_TTL_S = 300.0  # WeChat retries a MsgId within about 15 s
PENDING, PUSHING, ANSWERED = "pending", "pushing", "answered:"
POLL_S = 0.05


class InvalidXml(ApiError):
    code = "invalid_xml"


def signature_of(*parts: str) -> str:
    """WeChat's signature: sha1 of the sorted, concatenated parts."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def parse_xml(body: bytes | str) -> Element:
    """The XML root, refusing DTDs, entities and external references before any other parser sees it."""
    try:
        root = defused_fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError, ValueError) as error:
        raise InvalidXml("消息格式不正确：需要不含 DTD 和实体的 XML。") from error
    if root.tag != "xml":
        raise InvalidXml("消息格式不正确：根元素应为 <xml>。")
    return root


def cdata_safe(text: str) -> str:
    """Text that cannot end the CDATA section wechatpy wraps it in."""
    return text.replace("]]>", "]]]]><![CDATA[>")


class WeChatChannel:
    """Verifies, decrypts and answers callback messages; keeps the background pushes it starts."""

    def __init__(
        self,
        settings: WeChatSettings,
        assistant: Assistant,
        api: WeChatApi,
        crypto: WeChatCrypto | None,
        keys: SharedKeys | None = None,
        welcome: str = WELCOME,
    ) -> None:
        self.welcome = welcome  # names the deployment's assistant and hotline (render.welcome_text)
        self.token = settings.token.get_secret_value()
        self.deadline_s = settings.reply_deadline_s
        self.assistant = assistant
        self.api = api
        self.crypto = crypto
        self.keys = keys or SharedKeys()
        self._choices: OrderedDict[str, list[str]] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def verify(self, signature: str, timestamp: str, nonce: str) -> None:
        """Refuse a request not signed with our token, or signed more than five minutes from our clock."""
        expected = signature_of(self.token, timestamp, nonce)
        if not (timestamp and nonce and hmac.compare_digest(expected.encode(), signature.encode())):
            raise Forbidden("签名校验失败。")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_S:
            raise Forbidden("请求已过期：时间戳与服务器时间相差超过 5 分钟。")

    async def admit(self, timestamp: str, nonce: str, body: bytes) -> None:
        """Refuse a nonce already seen, whatever the body: a captured signed request replayed verbatim must not
        get the citizen's reply back (it may carry a work-order number). WeChat's own retries of a message are
        told apart by MsgId, not by nonce, and they get the first reply (``respond``)."""
        digest = hashlib.sha256(body).hexdigest()
        key = f"wechat:{self.api.app_id}:nonce:{timestamp}:{nonce}"
        if not await self.keys.claim(key, digest, NONCE_TTL_S):
            raise Forbidden("签名校验失败：该请求已被使用过。")

    def read(self, body: bytes, encrypted: bool, msg_signature: str, timestamp: str, nonce: str) -> Element:
        """The message's XML root; in safe mode checked against ``msg_signature`` and decrypted."""
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLarge(MAX_BODY_BYTES)
        root = parse_xml(body)
        if not encrypted:
            return root
        if self.crypto is None:
            log.error("a safe-mode message arrived but POLICY_WECHAT__ENCODING_AES_KEY is not set")
            raise InvalidXml("未配置消息加解密密钥（EncodingAESKey）。")
        encrypt = root.findtext("Encrypt") or ""
        expected = signature_of(self.token, timestamp, nonce, encrypt)
        if not (encrypt and hmac.compare_digest(expected.encode(), msg_signature.encode())):
            raise Forbidden("签名校验失败。")
        try:
            xml = self.crypto.decrypt_message({"Encrypt": encrypt}, msg_signature, timestamp, nonce)
        except (WeChatException, ValueError, IndexError, struct.error) as error:
            raise InvalidXml("消息解密失败。") from error
        return parse_xml(xml)

    async def respond(self, root: Element, xml: bytes | str) -> tuple[BaseMessage, str | None]:
        """The parsed message and the text to reply with; None means reply ``success`` (nothing, or later)."""
        try:
            message = parse_message(xml)
        except (KeyError, ValueError, AttributeError) as error:
            raise InvalidXml("消息格式不正确：缺少 MsgType 等字段。") from error
        kind = (root.findtext("MsgType") or "").strip().lower()
        openid = (root.findtext("FromUserName") or "").strip()
        if not openid:
            raise InvalidXml("消息格式不正确：缺少 FromUserName。")
        msg_id = (root.findtext("MsgId") or "").strip() or None
        if kind == "text":
            return message, await self.answer(openid, root.findtext("Content") or "", msg_id)
        if kind == "voice":
            recognition = (root.findtext("Recognition") or "").strip()
            if not recognition:
                return message, VOICE_UNRECOGNISED
            return message, await self.answer(openid, recognition, msg_id)
        if kind == "event":
            event = (root.findtext("Event") or "").strip().lower()
            return message, self.welcome if event in SUBSCRIBE_EVENTS else None
        return message, TEXT_ONLY

    async def answer(self, openid: str, text: str, msg_id: str | None) -> str | None:
        """The answer if ready within the deadline; otherwise None, and the answer is pushed when ready."""
        key = f"wechat:{self.api.app_id}:msg:{msg_id}" if msg_id else None
        if key is not None and not await self.keys.claim(key, PENDING, MSG_TTL_S):
            return await self._earlier_answer(key)  # a retry: the first delivery answers it
        task = asyncio.ensure_future(self._reply_text(openid, self._resolve_choice(openid, text), msg_id))
        try:
            content = await asyncio.wait_for(asyncio.shield(task), self.deadline_s)
        except TimeoutError:
            if key is not None:
                await self.keys.put(key, PUSHING, MSG_TTL_S)
            self._push_later(openid, task)
            return None
        if key is not None:  # kept for a retry to repeat, masked like everything stored
            await self.keys.put(key, ANSWERED + mask_personal_data(content), MSG_TTL_S)
        return content

    async def _earlier_answer(self, key: str) -> str | None:
        """The first delivery's answer if it is ready within the deadline; None when it is (or will be) pushed."""
        deadline = time.monotonic() + self.deadline_s
        while True:
            value = await self.keys.get(key)
            if value is not None and value.startswith(ANSWERED):
                return value.removeprefix(ANSWERED)
            if value != PENDING or time.monotonic() >= deadline:
                return None
            await asyncio.sleep(POLL_S)

    def _resolve_choice(self, openid: str, text: str) -> str:
        """A reply of "1", "2"… picks the numbered choice we offered this user last; anything else is a question."""
        payloads = self._choices.get(openid, [])
        number = choice_number(text, len(payloads))
        return payloads[number - 1] if number else text

    def _remember_choices(self, openid: str, buttons: list[dict[str, str]]) -> None:
        self._choices.pop(openid, None)
        if buttons:
            self._choices[openid] = [b["payload"] for b in buttons]
            if len(self._choices) > MAX_REMEMBERED:
                self._choices.popitem(last=False)

    async def _reply_text(self, openid: str, text: str, msg_id: str | None) -> str:
        try:
            reply = await self.assistant.ask("wechat", openid, text, turn_key=msg_id)
        except ApiError as error:  # empty, too long, rate-limited, Rasa down: the citizen reads why
            return error.message
        self._remember_choices(openid, reply.buttons)
        return plain_text(reply, MAX_TEXT_BYTES)

    def _push_later(self, openid: str, answer: asyncio.Future[str]) -> None:
        task = asyncio.create_task(self._push(openid, answer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _push(self, openid: str, answer: asyncio.Future[str]) -> None:
        try:
            content = await answer
        except Exception:  # a bug in answering: logged here, since no request is waiting to report it
            log.exception("a late WeChat answer failed")
            return
        try:
            await self.api.send_text(openid, content)
        except WeChatApiError as error:
            log.error("a late answer could not be pushed to a WeChat user: %s", error)

    async def close(self) -> None:
        """Let pushes in flight finish for a while, then cancel the rest."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=SHUTDOWN_GRACE_S)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("%d WeChat pushes cancelled at shutdown", len(pending))

    def render(
        self, message: BaseMessage, content: str | None, timestamp: str, nonce: str, encrypted: bool
    ) -> Response:
        """The passive reply: XML text (encrypted in safe mode), or ``success``."""
        if content is None:
            return PlainTextResponse("success")
        reply = TextReply(
            source=cdata_safe(str(message.target or "")),
            target=cdata_safe(str(message.source or "")),
            content=cdata_safe(content),
        )
        xml = reply.render()
        if encrypted and self.crypto is not None:
            xml = self.crypto.encrypt_message(xml, nonce, timestamp)
        return Response(xml, media_type="application/xml; charset=utf-8")


def _channel(request: Request) -> WeChatChannel:
    channel: WeChatChannel | None = getattr(request.app.state, "wechat", None)
    if channel is None:
        raise NotFound("本服务未启用微信公众号接入（POLICY_WECHAT__ENABLED）。")
    return channel


ChannelDep = Annotated[WeChatChannel, Depends(_channel)]


XML_BODY = {
    "requestBody": {
        "required": True,
        "description": "the message XML WeChat posts (in safe mode: an <Encrypt> envelope)",
        "content": {"text/xml": {"schema": {"type": "string"}}, "application/xml": {"schema": {"type": "string"}}},
    }
}
ECHO: dict[int | str, dict[str, Any]] = {
    200: {"description": "echostr, echoed", "content": {"text/plain": {"schema": {"type": "string"}}}}
}
REPLY: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the passive reply (XML), or success when there is nothing (yet) to say",
        "content": {"application/xml": {"schema": {"type": "string"}}, "text/plain": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "/wechat",
    summary="WeChat server URL verification",
    response_class=Response,  # not PlainTextResponse: the error responses stay documented as JSON
    responses=ECHO | error_responses(403, 404, 422),
)
async def verify(
    channel: ChannelDep,
    signature: str = Query(""),
    timestamp: str = Query(""),
    nonce: str = Query(""),
    echostr: str = Query(""),
) -> PlainTextResponse:
    channel.verify(signature, timestamp, nonce)
    await channel.admit(timestamp, nonce, echostr.encode())
    return PlainTextResponse(echostr)


@router.post(
    "/wechat",
    summary="WeChat message callback (plain or safe mode)",
    response_class=Response,
    responses=REPLY | error_responses(400, 403, 404, 422),
    openapi_extra=XML_BODY,
)
async def receive(
    request: Request,
    channel: ChannelDep,
    signature: str = Query(""),
    timestamp: str = Query(""),
    nonce: str = Query(""),
    encrypt_type: str = Query("raw"),
    msg_signature: str = Query(""),
) -> Response:
    channel.verify(signature, timestamp, nonce)
    encrypted = encrypt_type.lower() == "aes"
    if channel.crypto is not None and not encrypted:
        raise Forbidden("本公众号使用安全模式：不接受明文消息。")
    body = await request.body()
    await channel.admit(timestamp, nonce, body)
    root = channel.read(body, encrypted, msg_signature, timestamp, nonce)
    xml = _to_xml(root)
    message, content = await channel.respond(root, xml)
    return channel.render(message, content, timestamp, nonce, encrypted)


def _to_xml(root: Element) -> str:
    """The checked XML re-serialised, so wechatpy's parser only ever sees what defusedxml accepted."""
    return tostring(root, encoding="unicode")


@asynccontextmanager
async def lifespan(app: FastAPI, services: Services) -> AsyncIterator[None]:
    """Build the channel when WeChat is enabled; startup fails naming a missing or malformed setting."""
    if not services.settings.wechat.enabled:
        app.state.wechat = None
        yield
        return
    welcome = welcome_text(services.settings.service)
    channel = build_channel(services.settings.wechat, services.assistant, services.http, services.keys, welcome)
    app.state.wechat = channel
    try:
        yield
    finally:
        await channel.close()
        app.state.wechat = None


def build_channel(
    settings: WeChatSettings,
    assistant: Assistant,
    client: httpx.AsyncClient,
    keys: SharedKeys | None = None,
    welcome: str = WELCOME,
) -> WeChatChannel:
    """The channel with its API client, its shared keys and, when an EncodingAESKey is set, its crypto."""
    secret = settings.app_secret.get_secret_value()
    if not settings.app_id or not secret:
        raise ValueError(
            "POLICY_WECHAT__APP_ID and POLICY_WECHAT__APP_SECRET must be set when WeChat is enabled: "
            "answers slower than the 5-second reply window are sent with the customer-service message API"
        )
    crypto = None
    key = settings.encoding_aes_key.get_secret_value()
    if key:
        try:
            crypto = WeChatCrypto(settings.token.get_secret_value(), key, settings.app_id)
        except (AssertionError, ValueError, binascii.Error) as error:
            message = "POLICY_WECHAT__ENCODING_AES_KEY must be the account's 43-character EncodingAESKey"
            raise ValueError(message) from error
    api = WeChatApi(settings.api_base_url, settings.app_id, secret, client)
    return WeChatChannel(settings, assistant, api, crypto, keys, welcome)
