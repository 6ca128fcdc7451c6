"""The shared services of an API process, opened in one place: the API's lifespan and Telegram polling use it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from knowledge.store import DocumentStore
from monitor.log import ConversationLog, LogWriter, load_or_create_salt

from .assistant import Assistant
from .rasa import RasaClient
from .ratelimit import RateLimiter, RateStorage
from .seen import SharedKeys
from .settings import AppSettings

ADDRESS_LIMITED = "这个网络地址的提问太频繁了，请稍等一分钟再试。"


@dataclass(frozen=True)
class Services:
    """What routes and channels share: one HTTP client, the store, the log writer, the assistant, the limits."""

    settings: AppSettings
    http: httpx.AsyncClient
    store: DocumentStore
    conversation_log: ConversationLog
    writer: LogWriter
    assistant: Assistant
    address_limiter: RateLimiter
    keys: SharedKeys


@asynccontextmanager
async def open_services(settings: AppSettings) -> AsyncIterator[Services]:
    """Open every shared service; on exit the log writer drains first, then the rest close in reverse order."""
    async with AsyncExitStack() as stack:
        timeout = httpx.Timeout(settings.rasa.timeout_s, connect=3.0)
        client = await stack.enter_async_context(httpx.AsyncClient(timeout=timeout))
        store = DocumentStore.open(settings.store.url)
        stack.callback(store.close)
        conversation_log = ConversationLog.open(settings.log_url)
        stack.callback(conversation_log.close)
        spool = Path(settings.conversation_log.spool)
        salt = settings.conversation_log.salt.get_secret_value() or load_or_create_salt(spool.with_name("log-salt"))
        writer = LogWriter(conversation_log, spool)
        stack.callback(writer.close)
        keys = SharedKeys.for_storage(settings.chat.rate_storage)
        stack.push_async_callback(keys.close)
        rate_storage = RateStorage(settings.chat.rate_storage)
        assistant = Assistant(
            RasaClient(settings.rasa.urls, client, settings.service.hotline),
            writer,
            RateLimiter(settings.chat.rate_limit, rate_storage, namespace="chat"),
            salt,
            settings.chat.max_chars,
        )
        address_limiter = RateLimiter(settings.chat.address_rate_limit, rate_storage, "address", ADDRESS_LIMITED)
        yield Services(settings, client, store, conversation_log, writer, assistant, address_limiter, keys)
