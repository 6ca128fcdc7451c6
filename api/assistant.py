"""The assistant as every channel sees it: validate, rate-limit, ask Rasa, log the turn."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

from monitor.log import LogWriter, ReplyKind, Turn, button_choice, cited_ids, hash_user, reply_kind

from .errors import EmptyMessage, MessageTooLong
from .rasa import RasaClient
from .ratelimit import RateLimiter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatReply:
    """What a channel renders: the answer, its citations and buttons, and the logged turn's id."""

    turn_id: str
    answer: str
    answered: bool
    confidence: float
    citations: list[dict[str, Any]] = field(default_factory=list)
    buttons: list[dict[str, str]] = field(default_factory=list)
    intent: str = ""
    work_order: str | None = None
    duplicate: bool = False


class Assistant:
    """One door to the dialogue layer for the web chat, WeChat and Telegram."""

    def __init__(self, rasa: RasaClient, writer: LogWriter, limiter: RateLimiter, salt: str, max_chars: int) -> None:
        self.rasa = rasa
        self.writer = writer
        self.limiter = limiter
        self.salt = salt
        self.max_chars = max_chars
        self._seen: dict[str, ChatReply] = {}
        self._running: dict[str, asyncio.Future[ChatReply]] = {}

    def clean(self, text: str | None) -> str:
        """The message to send, or a clear error for an empty or oversized one."""
        text = (text or "").strip()
        if not text:
            raise EmptyMessage("消息不能为空。")
        if len(text) > self.max_chars:
            raise MessageTooLong(f"消息太长了（最多 {self.max_chars} 字），请精简后再问。")
        return text

    async def ask(self, channel: str, user_id: str, text: str | None, turn_key: str | None = None) -> ChatReply:
        """Send a citizen's message and log the turn; a repeated ``turn_key`` gets the first reply again."""
        if not turn_key:
            return await self._ask(channel, user_id, text, None)
        key = f"{channel}:{turn_key}"
        if key in self._seen:
            return self._seen[key]
        running = self._running.get(key)
        if running is None:
            running = self._running[key] = asyncio.ensure_future(self._ask(channel, user_id, text, key))
            running.add_done_callback(lambda task: self._finish(key, task))
            return await asyncio.shield(running)
        reply = await asyncio.shield(running)  # a retry while the first delivery is still being answered
        return replace(reply, duplicate=True)

    async def _ask(self, channel: str, user_id: str, text: str | None, key: str | None) -> ChatReply:
        message = self.clean(text)
        user_hash = hash_user(self.salt, channel, user_id)
        self.limiter.check(f"{channel}:{user_hash}")
        # a button or feedback payload is logged as what the citizen chose, never as a question
        choice = button_choice(message)
        turn = Turn(
            channel=channel, user_hash=user_hash, question="" if choice else message, choice=choice, turn_key=key
        )
        start = time.perf_counter()
        try:
            bot = await self.rasa.send(user_hash, message, {"channel": channel})
        except Exception as error:
            # the citizen saw an error: the turn is logged as one, then the error goes on to its handler
            shown = getattr(error, "message", "")
            self.writer.record(replace(turn, answer=shown, reply_kind=ReplyKind.ERROR.value, latency_ms=_since(start)))
            raise
        reply = ChatReply(
            turn_id=turn.id, answer=bot.text, answered=bot.answered, confidence=bot.confidence,
            citations=bot.citations, buttons=list(bot.buttons), intent=bot.intent,
            work_order=bot.payload.get("work_order"),
        )
        kind = reply_kind(bot.payload)
        self.writer.record(
            replace(
                turn, answer=bot.text, intent=bot.intent, confidence=bot.confidence if bot.payload else None,
                answered=bot.answered, cited_doc_ids=cited_ids(bot.citations), latency_ms=_since(start),
                handoff=kind is ReplyKind.HANDOFF, reply_kind=kind.value, work_order=reply.work_order,
            )
        )
        return reply

    def _finish(self, key: str, task: asyncio.Future[ChatReply]) -> None:
        self._running.pop(key, None)
        if task.cancelled() or task.exception() is not None:
            return
        if len(self._seen) > 10_000:  # bounded: channel retries arrive within seconds
            self._seen.pop(next(iter(self._seen)))
        self._seen[key] = replace(task.result(), duplicate=True)

    def feedback(self, turn_id: str, useful: bool) -> None:
        """Record 有用 / 没用 on a turn."""
        self.writer.feedback(turn_id, "positive" if useful else "negative")


def _since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)
