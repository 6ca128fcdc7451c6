"""Session start names the deployment's government and hotline for the template responses."""

from __future__ import annotations

import re
from typing import Any

from actions.session import ActionSessionStart, service_slots
from knowledge.settings import ServiceSettings

from .conversations import run, tracker

OTHER_COUNTY = ServiceSettings(
    hotline_name="市民服务热线", hotline_number="96345", government_name="白河县人民政府", region_name="白河县"
)


def test_session_start_sets_the_service_slots_and_carries_the_others_over() -> None:
    conversation = tracker("你好", "greet", slots={"current_doc_id": "qh-policy-001", "service_hotline": "旧热线"})
    result = run(ActionSessionStart(OTHER_COUNTY), conversation)
    kinds = [event["event"] for event in result.events]
    assert kinds[0] == "session_started" and kinds[-1] == "action" and result.events[-1]["name"] == "action_listen"
    assert result.slot("service_hotline") == "96345市民服务热线"
    assert result.slot("service_region") == "白河县" and result.slot("service_government") == "白河县人民政府"
    assert result.slot("current_doc_id") == "qh-policy-001"  # carry_over_slots_to_new_session
    assert result.messages == []


def test_template_responses_take_the_hotline_and_government_from_the_slots(domain: dict[str, Any]) -> None:
    """No response hard-codes the sample county; each placeholder is a slot the session start sets."""
    placeholders = set()
    for name, variants in domain["responses"].items():
        for variant in variants:
            text = variant["text"]
            assert "12345" not in text and "青禾" not in text, name
            placeholders |= set(re.findall(r"{(\w+)}", text))
    assert placeholders == set(service_slots(OTHER_COUNTY))
    for slot in placeholders:
        assert domain["slots"][slot]["influence_conversation"] is False
    greeting = domain["responses"]["utter_out_of_scope"][0]["text"].format(**service_slots(OTHER_COUNTY))
    assert "白河县人民政府" in greeting and "96345市民服务热线" in greeting
