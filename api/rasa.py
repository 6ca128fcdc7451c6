"""The Rasa server behind a small client: the REST channel for messages, status for health."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from .errors import AssistantUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BotReply:
    """Everything the bot said in answer to one message, with the action payload when there is one."""

    texts: tuple[str, ...]
    buttons: tuple[dict[str, str], ...] = ()
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(t for t in self.texts if t)

    @property
    def citations(self) -> list[dict[str, Any]]:
        return list(self.payload.get("citations", []))

    @property
    def answered(self) -> bool:
        return bool(self.payload.get("answered", False))

    @property
    def confidence(self) -> float:
        return float(self.payload.get("confidence", 0.0))

    @property
    def intent(self) -> str:
        return str(self.payload.get("intent", ""))


def parse_rest_messages(messages: list[dict[str, Any]]) -> BotReply:
    """Fold Rasa REST messages (text, buttons, custom) into one reply; the last payload wins its fields, except
    that a turn which answered stays answered: a policy question asked in the middle of the complaint form is
    answered, then the form asks again, and the turn is an answer (for the log and the reports), not a form."""
    texts: list[str] = []
    buttons: list[dict[str, str]] = []
    payload: dict[str, Any] = {}
    answer: dict[str, Any] = {}
    for message in messages:
        if message.get("text"):
            texts.append(str(message["text"]))
        for b in message.get("buttons") or []:
            buttons.append({"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))})
        custom = message.get("custom")
        if isinstance(custom, dict):
            merged_citations = payload.get("citations", []) + list(custom.get("citations", []))
            payload = {**payload, **custom, "citations": merged_citations}
            if custom.get("answered") and not answer:
                answer = {key: custom[key] for key in ("answered", "confidence", "reply") if key in custom}
    payload.update(answer)
    if payload.get("buttons") and not buttons:
        buttons = list(payload["buttons"])
    return BotReply(tuple(texts), tuple(buttons), payload)


def server_for(sender: str, count: int) -> int:
    """The index of the Rasa server a sender's conversation lives on: a stable hash, the same in every process."""
    return int.from_bytes(hashlib.sha256(sender.encode()).digest()[:8], "big") % count


class RasaClient:
    """Talks to ``rasa run`` over HTTP; the base URLs are a setting so tests can point them anywhere.

    With several servers, each sender always goes to the same one: Rasa keeps its trackers per process.
    """

    def __init__(
        self, base_url: str | Sequence[str], client: httpx.AsyncClient, hotline: str = "政务服务便民热线"
    ) -> None:
        """``hotline`` is named when Rasa cannot answer: the deployment's ``ServiceSettings.hotline``."""
        urls = base_url.split(",") if isinstance(base_url, str) else list(base_url)
        self.base_urls = [u.strip().rstrip("/") for u in urls if u.strip()]
        if not self.base_urls:
            raise ValueError("at least one Rasa server URL is needed")
        self.base_url = self.base_urls[0]
        self.client = client
        self.hotline = hotline

    def url_for(self, sender: str) -> str:
        """The base URL of the server holding this sender's conversation."""
        return self.base_urls[server_for(sender, len(self.base_urls))]

    async def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> BotReply:
        """One user message through the REST channel of the sender's server."""
        body = {"sender": sender, "message": text, "metadata": metadata or {}}
        try:
            response = await self.client.post(f"{self.url_for(sender)}/webhooks/rest/webhook", json=body)
            response.raise_for_status()
            messages = response.json()
            if not isinstance(messages, list):
                raise ValueError("the REST channel answers a list of messages")
        except (httpx.HTTPError, ValueError) as error:
            log.error("Rasa call failed: %s", error)
            raise AssistantUnavailable(f"智能助手暂时无法应答，请稍后再试或拨打{self.hotline}。") from error
        return parse_rest_messages(messages)

    async def all_healthy(self, urls: Sequence[str] | None = None) -> bool:
        """Whether every Rasa server (or every URL given) answers 200."""
        targets = list(urls) if urls is not None else [f"{u}/" for u in self.base_urls]
        return all(await asyncio.gather(*(self.healthy(t) for t in targets)))

    async def healthy(self, url: str | None = None) -> bool:
        """Whether a server answers 200 (by default the first Rasa server's root: its HTTP API stays closed)."""
        target = url or f"{self.base_url}/"
        try:
            response = await self.client.get(target, timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200
