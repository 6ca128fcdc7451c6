"""Wiring: action instances built with their dependencies, on rasa_sdk's executor and HTTP endpoint."""

from __future__ import annotations

from collections.abc import Iterable

from rasa_sdk import Action
from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic

from knowledge.workorders import WorkOrderStore

from .answering import ActionAnswerChosenDocument, ActionAnswerFollowup, ActionAnswerPolicyQuestion
from .complaint import ActionSubmitComplaint, ValidateComplaintForm
from .contact import ActionAnswerContact
from .fallback import ActionDefaultFallback
from .feedback import ActionRecordFeedback
from .handoff import ActionHandoff
from .interpretation import ActionAnswerInterpretation
from .provider import KnowledgeProvider
from .validity import ActionAnswerValidity


def build_actions(knowledge: KnowledgeProvider, work_orders: WorkOrderStore) -> list[Action]:
    """Every custom action of bot/domain.yml, sharing one knowledge base and one work-order store."""
    return [
        ActionAnswerPolicyQuestion(knowledge),
        ActionAnswerFollowup(knowledge),
        ActionAnswerValidity(knowledge),
        ActionAnswerInterpretation(knowledge),
        ActionAnswerContact(knowledge),
        ActionAnswerChosenDocument(knowledge),
        ActionHandoff(work_orders, knowledge),
        ActionSubmitComplaint(work_orders),
        ValidateComplaintForm(),
        ActionRecordFeedback(),
        ActionDefaultFallback(knowledge, work_orders),
    ]


def create_executor(actions: Iterable[Action]) -> ActionExecutor:
    """An executor holding these instances (not classes the SDK would construct without dependencies)."""
    executor = ActionExecutor()
    for action in actions:
        executor.register_action(action)
    return executor


def create_server(knowledge: KnowledgeProvider, work_orders: WorkOrderStore) -> Sanic:
    """The SDK's Sanic app (``/webhook``, ``/actions``, ``/health``); only Rasa calls it, so no CORS."""
    return create_app(create_executor(build_actions(knowledge, work_orders)), cors_origins=None)
