"""What the actions read from a Rasa tracker: the current turn, the conversation context, the transcript."""

from __future__ import annotations

from dataclasses import dataclass

from rasa_sdk import Tracker

TRANSCRIPT_MESSAGES = 60  # a work order keeps the last messages; older ones stay in Rasa's tracker store
USER_LABEL = "用户"
BOT_LABEL = "助手"


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True)
class Turn:
    """The user message being answered and the slots that carry context between turns."""

    sender_id: str
    text: str
    intent: str
    chosen_doc_id: str  # the doc_id entity of a /choose_document button
    current_doc_id: str
    current_topic: str
    last_question: str
    failed_turns: int

    @classmethod
    def of(cls, tracker: Tracker) -> Turn:
        latest = tracker.latest_message or {}
        intent = latest.get("intent") or {}
        chosen = next(tracker.get_latest_entity_values("doc_id"), None)
        try:
            failed = int(float(tracker.get_slot("failed_turns") or 0))
        except (TypeError, ValueError):
            failed = 0
        return cls(
            sender_id=tracker.sender_id or "",
            text=_text(latest.get("text")),
            intent=_text(intent.get("name")),
            chosen_doc_id=_text(chosen),
            current_doc_id=_text(tracker.get_slot("current_doc_id")),
            current_topic=_text(tracker.get_slot("current_topic")),
            last_question=_text(tracker.get_slot("last_question")),
            failed_turns=max(failed, 0),
        )


def transcript(tracker: Tracker, limit: int = TRANSCRIPT_MESSAGES) -> str:
    """The user and bot texts of the conversation, one ``用户：…`` / ``助手：…`` line each (not yet masked)."""
    lines = []
    for event in tracker.events:
        kind = event.get("event")
        text = _text(event.get("text"))
        if kind in ("user", "bot") and text:
            label = USER_LABEL if kind == "user" else BOT_LABEL
            lines.append(f"{label}：{' '.join(text.splitlines())}")
    return "\n".join(lines[-limit:])
