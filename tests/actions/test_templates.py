"""Template responses in bot/domain.yml carry the same payload as the action server's messages."""

from __future__ import annotations

from typing import Any

from actions.payload import PAYLOAD_VERSION, ReplyKind

from .conversations import PAYLOAD_KEYS


def test_every_template_response_carries_a_full_payload(domain: dict[str, Any]) -> None:
    kinds = {kind.value for kind in ReplyKind}
    for name, variants in domain["responses"].items():
        for variant in variants:
            custom = variant.get("custom")
            assert isinstance(custom, dict), f"{name} has no payload"
            assert set(custom) == PAYLOAD_KEYS, f"{name}: {sorted(set(custom) ^ PAYLOAD_KEYS)}"
            assert custom["version"] == PAYLOAD_VERSION and custom["reply"] in kinds, name
            assert custom["answered"] is False and custom["intent"], name


def test_template_intent_slot_is_set_by_every_intent(domain: dict[str, Any]) -> None:
    mapped = {m["intent"] for m in domain["slots"]["user_intent"]["mappings"] if m["type"] == "from_intent"}
    assert set(domain["intents"]) <= mapped
    assert all(m["value"] == m["intent"] for m in domain["slots"]["user_intent"]["mappings"])
