"""WeChat official account (公众号) callback: signed XML in, a passive text reply out, slow answers pushed later.

WeChat waits five seconds for the passive reply and then retries the same MsgId. An answer not ready within
``reply_deadline_s`` is acknowledged with ``success`` and sent when ready through the customer-service
message API; the assistant dedupes by MsgId, so a retry never asks Rasa twice or logs the turn twice.
"""

from __future__ import annotations

import asyncio
import binascii
import hmac
import logging
import struct
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated
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

from .assistant import Assistant
from .errors import ApiError, Forbidden, NotFound
from .render import TEXT_ONLY, VOICE_UNRECOGNISED, WELCOME, choice_number, plain_text
from .settings import AppSettings, WeChatSettings
from .wechat_client import WeChatApi, WeChatApiError

log = logging.getLogger(__name__)
router = APIRouter()

MAX_BODY_BYTES = 64 * 1024  # WeChat messages are a few hundred bytes
MAX_TEXT_BYTES = 2000  # WeChat cuts text messages beyond 2048 bytes
MAX_REMEMBERED = 10_000  # pushed MsgIds and offered choices kept, oldest dropped first
SUBSCRIBE_EVENTS = frozenset({"subscribe"})  # a scan-to-subscribe is a subscribe event with an EventKey
SHUTDOWN_GRACE_S = 10.0


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
        self, settings: WeChatSettings, assistant: Assistant, api: WeChatApi, crypto: WeChatCrypto | None
    ) -> None:
        self.token = settings.token.get_secret_value()
        self.deadline_s = settings.reply_deadline_s
        self.assistant = assistant
        self.api = api
        self.crypto = crypto
        self._pushed: OrderedDict[str, None] = OrderedDict()
        self._choices: OrderedDict[str, list[str]] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def verify(self, signature: str, timestamp: str, nonce: str) -> None:
        """Refuse a request not signed with our token."""
        expected = signature_of(self.token, timestamp, nonce)
        if not (timestamp and nonce and hmac.compare_digest(expected.encode(), signature.encode())):
            raise Forbidden("签名校验失败。")

    def read(self, body: bytes, encrypted: bool, msg_signature: str, timestamp: str, nonce: str) -> Element:
        """The message's XML root; in safe mode checked against ``msg_signature`` and decrypted."""
        if len(body) > MAX_BODY_BYTES:
            raise InvalidXml("消息过大。")
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
            return message, WELCOME if event in SUBSCRIBE_EVENTS else None
        return message, TEXT_ONLY

    async def answer(self, openid: str, text: str, msg_id: str | None) -> str | None:
        """The answer if ready within the deadline; otherwise None, and the answer is pushed when ready."""
        if msg_id is not None and msg_id in self._pushed:
            return None  # a retry of a message whose answer is already on its way
        task = asyncio.ensure_future(self._reply_text(openid, self._resolve_choice(openid, text), msg_id))
        try:
            return await asyncio.wait_for(asyncio.shield(task), self.deadline_s)
        except TimeoutError:
            self._push_later(openid, msg_id, task)
            return None

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

    def _push_later(self, openid: str, msg_id: str | None, answer: asyncio.Future[str]) -> None:
        if msg_id is not None:
            if msg_id in self._pushed:
                return
            self._pushed[msg_id] = None
            if len(self._pushed) > MAX_REMEMBERED:
                self._pushed.popitem(last=False)
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


@router.get("/wechat", summary="WeChat server URL verification", response_class=PlainTextResponse)
async def verify(
    channel: ChannelDep,
    signature: str = Query(""),
    timestamp: str = Query(""),
    nonce: str = Query(""),
    echostr: str = Query(""),
) -> PlainTextResponse:
    channel.verify(signature, timestamp, nonce)
    return PlainTextResponse(echostr)


@router.post("/wechat", summary="WeChat message callback (plain or safe mode)")
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
    body = await request.body()
    root = channel.read(body, encrypted, msg_signature, timestamp, nonce)
    xml = _to_xml(root)
    message, content = await channel.respond(root, xml)
    return channel.render(message, content, timestamp, nonce, encrypted)


def _to_xml(root: Element) -> str:
    """The checked XML re-serialised, so wechatpy's parser only ever sees what defusedxml accepted."""
    return tostring(root, encoding="unicode")


@asynccontextmanager
async def lifespan(app: FastAPI, settings: AppSettings) -> AsyncIterator[None]:
    """Build the channel when WeChat is enabled; startup fails naming a missing or malformed setting."""
    if not settings.wechat.enabled:
        app.state.wechat = None
        yield
        return
    channel = build_channel(settings.wechat, app.state.assistant, app.state.http)
    app.state.wechat = channel
    try:
        yield
    finally:
        await channel.close()
        app.state.wechat = None


def build_channel(settings: WeChatSettings, assistant: Assistant, client: httpx.AsyncClient) -> WeChatChannel:
    """The channel with its API client and, when an EncodingAESKey is set, its crypto."""
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
    return WeChatChannel(settings, assistant, api, crypto)
