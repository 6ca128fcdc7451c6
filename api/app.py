"""``create_app(settings)``: the FastAPI app, its lifespan and routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from knowledge.store import DocumentStore
from monitor.log import ConversationLog, LogWriter, load_or_create_salt

from . import chat, health, telegram, wechat
from .assistant import Assistant, RateLimiter
from .errors import install_error_handlers
from .rasa import RasaClient
from .settings import AppSettings

log = logging.getLogger(__name__)


def create_app(settings: AppSettings) -> FastAPI:
    """Build the app; the store, the log writer and one HTTP client open in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        timeout = httpx.Timeout(settings.rasa.timeout_s, connect=3.0)
        async with httpx.AsyncClient(timeout=timeout) as client:
            store = DocumentStore.open(settings.store.url)
            conversation_log = ConversationLog.open(settings.log_url)
            spool = Path(settings.conversation_log.spool)
            salt = settings.conversation_log.salt.get_secret_value() or load_or_create_salt(spool.with_name("log-salt"))
            writer = LogWriter(conversation_log, spool)
            assistant = Assistant(
                RasaClient(settings.rasa.url, client),
                writer,
                RateLimiter(settings.chat.rate_limit, settings.chat.rate_storage),
                salt,
                settings.chat.max_chars,
            )
            app.state.settings = settings
            app.state.store = store
            app.state.conversation_log = conversation_log
            app.state.writer = writer
            app.state.assistant = assistant
            app.state.http = client
            async with wechat.lifespan(app, settings), telegram.lifespan(app, settings):
                yield
            writer.close()
            conversation_log.close()
            store.close()

    app = FastAPI(title="政策咨询助手 API", version="0.1.0", lifespan=lifespan)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(chat.router)
    app.include_router(wechat.router)
    app.include_router(telegram.router)
    app.mount("/static", StaticFiles(directory=chat.STATIC), name="static")
    return app
