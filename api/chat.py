"""Web chat: the JSON API the page uses, and the page itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from .deps import AssistantDep

STATIC = Path(__file__).parent / "static"
router = APIRouter()


class ChatRequest(BaseModel):
    session_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    text: str = Field(max_length=20_000)  # the real limit is a setting, checked with a clear message


class ChatResponse(BaseModel):
    turn_id: str
    answer: str
    answered: bool
    confidence: float
    citations: list[dict[str, Any]]
    buttons: list[dict[str, str]]
    work_order: str | None = None


class FeedbackRequest(BaseModel):
    turn_id: str = Field(min_length=8, max_length=64, pattern=r"^[a-f0-9]+$")
    session_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    useful: bool


@router.post("/api/chat", response_model=ChatResponse, summary="Ask the assistant a question")
async def chat(body: ChatRequest, assistant: AssistantDep) -> ChatResponse:
    reply = await assistant.ask("web", body.session_id, body.text)
    return ChatResponse(
        turn_id=reply.turn_id, answer=reply.answer, answered=reply.answered, confidence=reply.confidence,
        citations=reply.citations, buttons=reply.buttons, work_order=reply.work_order,
    )


@router.post("/api/feedback", response_model=ChatResponse, summary="有用 / 没用 on an answer")
async def feedback(body: FeedbackRequest, assistant: AssistantDep) -> ChatResponse:
    assistant.feedback(body.turn_id, body.useful)
    reply = await assistant.ask("web", body.session_id, "/feedback_positive" if body.useful else "/feedback_negative")
    return ChatResponse(
        turn_id=reply.turn_id, answer=reply.answer, answered=reply.answered, confidence=reply.confidence,
        citations=reply.citations, buttons=reply.buttons,
    )


@router.get("/", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")
