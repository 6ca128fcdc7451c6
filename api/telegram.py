"""Telegram bot: the webhook route (python-telegram-bot Application driven by FastAPI) and a polling entry point.

Handlers find the assistant in ``application.bot_data["assistant"]``, so the webhook app and polling
(``python -m api telegram-poll``, for deployments without a public URL) share them unchanged; both get it
from api/services.py, so this module never imports the app.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.constants import MessageLimit, ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from .assistant import Assistant, ChatReply
from .edge import configure_logging
from .errors import ApiError, Forbidden, NotFound, error_responses
from .render import TEXT_ONLY, WELCOME, html_text, welcome_text
from .services import Services, open_services
from .settings import PLACEHOLDER_SECRETS, AppSettings, TelegramSettings

log = logging.getLogger(__name__)
router = APIRouter()

CALLBACK_LIMIT = 64  # bytes Telegram allows in callback_data
MAX_PAYLOADS = 10_000  # long button payloads remembered by short key, oldest dropped first
FEEDBACK = re.compile(r"fb:([0-9a-f]{8,40}):([01])")
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what setWebhook accepts
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
Context = ContextTypes.DEFAULT_TYPE
App = Application[Any, Any, Any, Any, Any, Any]


class TelegramUnavailable(ApiError):
    status = 503
    code = "telegram_unavailable"


class BadUpdate(ApiError):
    code = "bad_update"


class Buttons:
    """Button payloads as callback_data: short ones as they are, long ones behind a short key."""

    def __init__(self, capacity: int = MAX_PAYLOADS) -> None:
        self.capacity = capacity
        self._long: OrderedDict[str, str] = OrderedDict()

    def data_for(self, payload: str) -> str:
        if len(payload.encode()) <= CALLBACK_LIMIT and not payload.startswith(("fb:", "k:")):
            return payload
        key = "k:" + hashlib.sha256(payload.encode()).hexdigest()[:24]
        self._long[key] = payload
        self._long.move_to_end(key)
        if len(self._long) > self.capacity:
            self._long.popitem(last=False)
        return key

    def payload_of(self, data: str) -> str | None:
        """The payload a button carries; None for a key we no longer remember."""
        return self._long.get(data) if data.startswith("k:") else data

    def keyboard(self, reply: ChatReply) -> InlineKeyboardMarkup | None:
        """The reply's own buttons, one per row, then 有用 / 没用 under an answer."""
        rows = [[InlineKeyboardButton(b["title"], callback_data=self.data_for(b["payload"]))] for b in reply.buttons]
        if reply.answered:
            rows.append(
                [
                    InlineKeyboardButton("👍 有用", callback_data=f"fb:{reply.turn_id}:1"),
                    InlineKeyboardButton("👎 没用", callback_data=f"fb:{reply.turn_id}:0"),
                ]
            )
        return InlineKeyboardMarkup(rows) if rows else None


class Handlers:
    """/start, text questions, button presses, everything else; replies go to the chat the update came from."""

    def __init__(self, buttons: Buttons | None = None, welcome: str = WELCOME) -> None:
        self.buttons = buttons or Buttons()
        self.welcome = welcome  # names the deployment's assistant and hotline (render.welcome_text)

    def install(self, application: App) -> None:
        new_messages = filters.UpdateType.MESSAGE
        application.add_handler(CommandHandler(["start", "help"], self.start))
        application.add_handler(MessageHandler(new_messages & filters.TEXT & ~filters.COMMAND, self.text))
        application.add_handler(CallbackQueryHandler(self.button))
        application.add_handler(MessageHandler(new_messages & filters.COMMAND, self.start))
        application.add_handler(MessageHandler(new_messages & ~filters.TEXT, self.unsupported))
        application.add_error_handler(self.error)

    async def start(self, update: Update, context: Context) -> None:
        if update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, self.welcome)

    async def unsupported(self, update: Update, context: Context) -> None:
        if update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, TEXT_ONLY)

    async def text(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is not None and message.text:
            await self.ask(update, context, message.text)

    async def button(self, update: Update, context: Context) -> None:
        """A clarification choice is asked as its payload; 有用 / 没用 is recorded on the turn."""
        query = update.callback_query
        if query is None:
            return
        data = query.data or ""
        if feedback := FEEDBACK.fullmatch(data):
            useful = feedback.group(2) == "1"
            assistant(context).feedback(feedback.group(1), useful)
            await query.answer("感谢您的反馈！" if useful else "已记录，抱歉没能帮到您。")
            await self.ask(update, context, "/feedback_positive" if useful else "/feedback_negative")
            return
        payload = self.buttons.payload_of(data)
        if not payload:
            await query.answer("这个选项已过期，请重新提问。", show_alert=True)
            return
        await query.answer()
        await self.ask(update, context, payload)

    async def ask(self, update: Update, context: Context, text: str) -> None:
        """Ask the assistant with the update id as turn key; a redelivered update is not answered twice."""
        user, chat = update.effective_user, update.effective_chat
        if user is None:
            return
        chat_id = chat.id if chat is not None else user.id
        try:
            reply = await assistant(context).ask("telegram", str(user.id), text, turn_key=str(update.update_id))
        except ApiError as error:  # empty, too long, rate-limited, Rasa down: the citizen reads why
            await context.bot.send_message(chat_id, error.message)
            return
        if reply.duplicate:
            return
        await context.bot.send_message(
            chat_id,
            html_text(reply, MessageLimit.MAX_TEXT_LENGTH),
            parse_mode=ParseMode.HTML,
            reply_markup=self.buttons.keyboard(reply),
            link_preview_options=NO_PREVIEW,
        )

    async def error(self, update: object, context: Context) -> None:
        log.error("Telegram update %s failed", getattr(update, "update_id", "-"), exc_info=context.error)


def assistant(context: Context) -> Assistant:
    return context.application.bot_data["assistant"]  # type: ignore[no-any-return]


def build_application(
    settings: TelegramSettings,
    handlers: Handlers,
    *,
    polling: bool = False,
    post_init: Callable[[App], Coroutine[Any, Any, None]] | None = None,
    post_shutdown: Callable[[App], Coroutine[Any, Any, None]] | None = None,
) -> App:
    """The Application with our handlers; webhook mode (no updater) unless ``polling``."""
    builder = Application.builder().token(settings.token.get_secret_value()).base_url(settings.base_url)
    if not polling:
        builder = builder.updater(None)
    if post_init is not None:
        builder = builder.post_init(post_init)
    if post_shutdown is not None:
        builder = builder.post_shutdown(post_shutdown)
    application = builder.build()
    handlers.install(application)
    return application


class TelegramChannel:
    """The webhook side: the secret check, and an Application started now or, if Telegram is unreachable, later."""

    def __init__(self, application: App, secret_token: str) -> None:
        self.application = application
        self._secret = secret_token.encode()
        self._ready = False
        self._lock = asyncio.Lock()

    def check(self, header: str) -> None:
        if not hmac.compare_digest(header.encode(), self._secret):
            raise Forbidden("密钥校验失败。")

    async def start(self) -> bool:
        """Initialise (getMe) and start; a bad token fails, an unreachable Bot API is retried on the next update."""
        async with self._lock:
            if self._ready:
                return True
            try:
                await self.application.initialize()
                await self.application.start()
            except InvalidToken:
                raise
            except TelegramError as error:
                log.error("Telegram Bot API unreachable, will retry on the next update: %s", error)
                return False
            self._ready = True
            return True

    async def process(self, data: Any) -> None:
        if not self._ready and not await self.start():
            raise TelegramUnavailable("Telegram 服务暂时不可用，请稍后重试。")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise BadUpdate("不是有效的 Telegram Update。")
        try:
            update = Update.de_json(data, self.application.bot)
        except (KeyError, TypeError, ValueError) as error:
            raise BadUpdate("不是有效的 Telegram Update。") from error
        await self.application.process_update(update)

    async def stop(self) -> None:
        if self._ready:
            await self.application.stop()
            await self.application.shutdown()
            self._ready = False


def _channel(request: Request) -> TelegramChannel:
    channel: TelegramChannel | None = getattr(request.app.state, "telegram", None)
    if channel is None:
        raise NotFound("本服务未启用 Telegram 接入（POLICY_TELEGRAM__ENABLED）。")
    return channel


ChannelDep = Annotated[TelegramChannel, Depends(_channel)]


UPDATE_BODY = {
    "requestBody": {
        "required": True,
        "description": "a Telegram Update, as the Bot API posts it",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object", "required": ["update_id"], "properties": {"update_id": {"type": "integer"}}
                }
            }
        },
    }
}


@router.post(
    "/telegram/webhook",
    summary="Telegram Bot API webhook",
    responses={200: {"description": "the update was handled"}, **error_responses(400, 403, 404, 422, 503)},
    openapi_extra=UPDATE_BODY,
)
async def webhook(
    request: Request, channel: ChannelDep, x_telegram_bot_api_secret_token: Annotated[str, Header()] = ""
) -> JSONResponse:
    channel.check(x_telegram_bot_api_secret_token)
    try:
        data = await request.json()
    except ValueError as error:
        raise BadUpdate("请求体不是 JSON。") from error
    await channel.process(data)
    return JSONResponse({"ok": True})


def check_settings(settings: TelegramSettings, webhook: bool) -> None:
    """Fail fast, naming the setting, before anything talks to Telegram."""
    if settings.token.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
        raise ValueError("POLICY_TELEGRAM__TOKEN must be set to the bot's token")
    if not settings.base_url.startswith(("http://", "https://")):
        raise ValueError(f"POLICY_TELEGRAM__BASE_URL must be an http(s) URL, not {settings.base_url!r}")
    secret = settings.secret_token.get_secret_value()
    if webhook and (secret.lower() in PLACEHOLDER_SECRETS or not SECRET_TOKEN.fullmatch(secret)):
        raise ValueError(
            "POLICY_TELEGRAM__SECRET_TOKEN must be set (1-256 characters A-Z a-z 0-9 _ -) when the Telegram "
            "webhook is enabled; pass the same value to setWebhook"
        )


@asynccontextmanager
async def lifespan(app: FastAPI, services: Services) -> AsyncIterator[None]:
    """Start the webhook Application when Telegram is enabled, and shut it down afterwards."""
    settings = services.settings
    if not settings.telegram.enabled:
        app.state.telegram = None
        yield
        return
    check_settings(settings.telegram, webhook=True)
    application = build_application(settings.telegram, Handlers(welcome=welcome_text(settings.service)))
    application.bot_data["assistant"] = services.assistant
    channel = TelegramChannel(application, settings.telegram.secret_token.get_secret_value())
    await channel.start()
    app.state.telegram = channel
    try:
        yield
    finally:
        app.state.telegram = None
        await channel.stop()


def run_polling(settings: AppSettings) -> None:
    """Long polling with the webhook's handlers; the shared services open around it (api/services.py)."""
    check_settings(settings.telegram, webhook=False)
    # this process serves Telegram by polling only: no webhook, no WeChat
    resources = AsyncExitStack()

    async def open_resources(application: App) -> None:
        services = await resources.enter_async_context(open_services(settings))
        application.bot_data["assistant"] = services.assistant

    async def close_resources(_: App) -> None:
        await resources.aclose()

    application = build_application(
        settings.telegram,
        Handlers(welcome=welcome_text(settings.service)),
        polling=True,
        post_init=open_resources,
        post_shutdown=close_resources,
    )
    application.run_polling(allowed_updates=Update.ALL_TYPES)


def main() -> None:
    """``python -m api.telegram`` (the same as ``python -m api telegram-poll``)."""
    configure_logging()
    run_polling(AppSettings())


if __name__ == "__main__":
    main()
