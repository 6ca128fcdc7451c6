"""Web chat: the JSON API the page uses, and the page itself.

The request models are built with the deployment's message limit, so the OpenAPI schema declares the
limit the route enforces: a message valid by the schema is never refused for its length. (No
``from __future__ import annotations`` here: the routes' annotations name a class local to ``build_router``.)
"""

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from .deps import AddressLimit, AssistantDep, SettingsDep
from .errors import error_responses
from .render import chat_page

STATIC = Path(__file__).parent / "static"
# a message must hold something besides whitespace; \x1c-\x1f are whitespace to Python's str.strip too
NOT_BLANK = r"[^\s\x1c-\x1f]"
SessionId = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$", description="the browser's session id")
]
ROUTE_ERRORS = error_responses(400, 422, 429, 503)


class ChatResponse(BaseModel):
    turn_id: str = Field(description="the logged turn, for feedback")
    answer: str
    answered: bool = Field(description="whether a policy answered the question")
    confidence: float
    citations: list[dict[str, Any]] = Field(description="the policies the answer cites")
    buttons: list[dict[str, str]] = Field(description="choices offered (title, payload to send as text)")
    work_order: str | None = Field(None, description="the work order's number, when one was created")


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    turn_id: str = Field(min_length=8, max_length=64, pattern=r"^[a-f0-9]+$", description="ChatResponse.turn_id")
    session_id: SessionId
    useful: StrictBool = Field(description="有用 (true) or 没用 (false); a JSON boolean, not 0 or 1")


def build_router(max_chars: int) -> APIRouter:
    """The chat routes, their request model declaring ``max_chars`` (POLICY_CHAT__MAX_CHARS)."""
    router = APIRouter()

    class ChatRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")

        session_id: SessionId
        text: str = Field(
            min_length=1, max_length=max_chars, pattern=NOT_BLANK, description="the citizen's message"
        )

    @router.post(
        "/api/chat", response_model=ChatResponse, summary="Ask the assistant a question", responses=ROUTE_ERRORS
    )
    async def chat(body: ChatRequest, assistant: AssistantDep, _: None = AddressLimit) -> ChatResponse:
        reply = await assistant.ask("web", body.session_id, body.text)
        return ChatResponse(
            turn_id=reply.turn_id, answer=reply.answer, answered=reply.answered, confidence=reply.confidence,
            citations=reply.citations, buttons=reply.buttons, work_order=reply.work_order,
        )

    @router.post(
        "/api/feedback", response_model=ChatResponse, summary="有用 / 没用 on an answer", responses=ROUTE_ERRORS
    )
    async def feedback(body: FeedbackRequest, assistant: AssistantDep, _: None = AddressLimit) -> ChatResponse:
        assistant.feedback(body.turn_id, body.useful)
        text = "/feedback_positive" if body.useful else "/feedback_negative"
        reply = await assistant.ask("web", body.session_id, text)
        return ChatResponse(
            turn_id=reply.turn_id, answer=reply.answer, answered=reply.answered, confidence=reply.confidence,
            citations=reply.citations, buttons=reply.buttons,
        )

    @router.get("/", include_in_schema=False)
    async def page(settings: SettingsDep) -> HTMLResponse:
        return HTMLResponse(chat_page(settings.service))  # names the deployment's government and hotline

    return router
