"""The Rasa server behind a small client: the REST channel for messages, status for health."""

from __future__ import annotations

import logging
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
    """Fold Rasa REST messages (text, buttons, custom) into one reply; the last payload wins its fields."""
    texts: list[str] = []
    buttons: list[dict[str, str]] = []
    payload: dict[str, Any] = {}
    for message in messages:
        if message.get("text"):
            texts.append(str(message["text"]))
        for b in message.get("buttons") or []:
            buttons.append({"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))})
        custom = message.get("custom")
        if isinstance(custom, dict):
            merged_citations = payload.get("citations", []) + list(custom.get("citations", []))
            payload = {**payload, **custom, "citations": merged_citations}
    if payload.get("buttons") and not buttons:
        buttons = list(payload["buttons"])
    return BotReply(tuple(texts), tuple(buttons), payload)


class RasaClient:
    """Talks to ``rasa run`` over HTTP; the base URL is a setting so tests can point it anywhere."""

    def __init__(self, base_url: str, client: httpx.AsyncClient) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client

    async def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> BotReply:
        """One user message through the REST channel."""
        body = {"sender": sender, "message": text, "metadata": metadata or {}}
        try:
            response = await self.client.post(f"{self.base_url}/webhooks/rest/webhook", json=body)
            response.raise_for_status()
        except httpx.HTTPError as error:
            log.error("Rasa call failed: %s", error)
            raise AssistantUnavailable("智能助手暂时无法应答，请稍后再试或拨打 12345 政务服务便民热线。") from error
        return parse_rest_messages(response.json())

    async def healthy(self, url: str | None = None) -> bool:
        """Whether a server answers its status endpoint."""
        target = url or f"{self.base_url}/status"
        try:
            response = await self.client.get(target, timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200
