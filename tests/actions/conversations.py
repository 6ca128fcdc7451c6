"""Trackers as Rasa sends them, and a way to run an action on one with a real CollectingDispatcher."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.payload import CitationPayload, CitationRole, ReplyPayload

PAYLOAD_KEYS = set(ReplyPayload.__annotations__)
CITATION_KEYS = set(CitationPayload.__annotations__)
ROLES = {role.value for role in CitationRole}


def tracker(
    text: str,
    intent: str = "ask_policy",
    *,
    slots: dict[str, Any] | None = None,
    entities: dict[str, str] | None = None,
    history: Sequence[tuple[str, str]] = (),
    extra_events: Sequence[dict[str, Any]] = (),
    sender_id: str = "citizen-1",
    active_loop: dict[str, Any] | None = None,
) -> Tracker:
    """A tracker whose latest message is ``text``; ``history`` holds earlier (speaker, text) pairs."""
    found = [{"entity": name, "value": value, "start": 0, "end": 0} for name, value in (entities or {}).items()]
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": found}
    events: list[dict[str, Any]] = [{"event": "action", "name": "action_session_start"}]
    for speaker, said in history:
        events.append({"event": speaker, "text": said})
    events.append({"event": "user", "text": text, "parse_data": latest})
    events.extend(extra_events)
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": {"failed_turns": 0.0, **(slots or {})},
            "latest_message": latest,
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": active_loop or {},
            "latest_action_name": "action_listen",
        }
    )


@dataclass
class Result:
    """What an action sent and returned."""

    messages: list[dict[str, Any]]
    events: list[dict[str, Any]]

    @property
    def text(self) -> str:
        return "\n".join(m["text"] or "" for m in self.messages)

    @property
    def payload(self) -> dict[str, Any]:
        return self.messages[-1]["custom"]

    def slot(self, name: str) -> Any:
        values = [e["value"] for e in self.events if e["event"] == "slot" and e["name"] == name]
        assert values, f"{name} was not set; events: {self.events}"
        return values[-1]

    def sets(self, name: str) -> bool:
        return any(e["event"] == "slot" and e["name"] == name for e in self.events)


def run(action: Action, conversation: Tracker, domain: dict[str, Any] | None = None) -> Result:
    """Run the action; every message it sends must carry the full payload."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, conversation, domain or {}))
    for message in dispatcher.messages:
        assert set(message["custom"]) == PAYLOAD_KEYS, message
        assert message["buttons"] == message["custom"]["buttons"]
        for citation in message["custom"]["citations"]:
            assert set(citation) == CITATION_KEYS and citation["role"] in ROLES
    return Result(dispatcher.messages, events)
