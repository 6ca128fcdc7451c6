"""Wiring: action instances built with their dependencies, on rasa_sdk's executor and HTTP endpoint."""

from __future__ import annotations

from collections.abc import Iterable

from rasa_sdk import Action
from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic

from knowledge.provider import KnowledgeProvider
from knowledge.settings import ServiceSettings
from monitor.outbox import WorkOrderDesk

from . import replies
from .answering import ActionAnswerChosenDocument, ActionAnswerFollowup, ActionAnswerPolicyQuestion
from .complaint import ActionSubmitComplaint, ValidateComplaintForm
from .contact import ActionAnswerContact
from .fallback import ActionDefaultFallback
from .feedback import ActionRecordFeedback
from .handoff import ActionHandoff, AnnounceLateWorkOrders
from .interpretation import ActionAnswerInterpretation
from .session import ActionSessionStart
from .validity import ActionAnswerValidity


def build_actions(knowledge: KnowledgeProvider, desk: WorkOrderDesk, service: ServiceSettings) -> list[Action]:
    """Every custom action of bot/domain.yml, sharing one knowledge base and one work-order desk; replies and
    template responses name ``service``'s government and hotline.

    Each action that replies to a citizen's message first tells them the numbers of orders that waited in
    the outbox and have landed since; the form's validation (which speaks only about the form) does not."""
    replying: list[Action] = [
        ActionAnswerPolicyQuestion(knowledge),
        ActionAnswerFollowup(knowledge),
        ActionAnswerValidity(knowledge),
        ActionAnswerInterpretation(knowledge),
        ActionAnswerContact(knowledge),
        ActionAnswerChosenDocument(knowledge),
        ActionHandoff(desk, knowledge),
        ActionSubmitComplaint(desk),
        ActionRecordFeedback(),
        ActionDefaultFallback(knowledge, desk),
    ]
    replies.configure(service)
    return [
        *(AnnounceLateWorkOrders(action, desk) for action in replying),
        ValidateComplaintForm(),
        ActionSessionStart(service),
    ]


def create_executor(actions: Iterable[Action]) -> ActionExecutor:
    """An executor holding these instances (not classes the SDK would construct without dependencies)."""
    executor = ActionExecutor()
    for action in actions:
        executor.register_action(action)
    return executor


def create_server(knowledge: KnowledgeProvider, desk: WorkOrderDesk, service: ServiceSettings) -> Sanic:
    """The SDK's Sanic app (``/webhook``, ``/actions``, ``/health``); only Rasa calls it, so no CORS."""
    return create_app(create_executor(build_actions(knowledge, desk, service)), cors_origins=None)
