"""Session start: carry the conversation's slots over and name the county's government and hotline.

bot/domain.yml's template responses say ``{service_hotline}``, ``{service_region}`` and
``{service_government}``; Rasa fills them from these slots, so each county's settings reach the
templates without retraining.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from knowledge.settings import ServiceSettings


def service_slots(service: ServiceSettings) -> dict[str, str]:
    """The slot values template responses read the hotline and government from."""
    return {
        "service_hotline": service.hotline,
        "service_region": service.region_name,
        "service_government": service.government_name,
    }


class ActionSessionStart(Action):
    def __init__(self, service: ServiceSettings) -> None:
        self.service = service

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        service = service_slots(self.service)
        # what Rasa's own session start does with carry_over_slots_to_new_session: true
        carried: dict[str, Any] = {
            name: value for name, value in tracker.slots.items() if value is not None and name not in service
        }
        events: list[EventType] = [SessionStarted()]
        events += [SlotSet(name, value) for name, value in {**carried, **service}.items()]
        events.append(ActionExecuted("action_listen"))
        return events
