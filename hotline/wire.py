"""The JSON of a call's assistance, as the API returns it and the live-call store keeps it (TypedDicts).

What the caller said (questions, turns, the draft's texts) is masked here, so a stored or pushed result never
holds a phone, ID-card or bank-card number; the draft's 联系电话 is masked too and only ``with_phone`` puts
the full callback number back, for the operator's screen. Answers and citations come from the knowledge base
and keep their published numbers (office lines, 文号).
"""

from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict  # pydantic reads TypedDicts from typing_extensions before 3.12

from knowledge.privacy import mask_personal_data, mask_phone

from .assist import Assistance, Source, Suggestion

PHONE_FIELD = "联系电话"


class CitationJson(TypedDict):
    doc_id: str
    title: str
    doc_number: str
    issuer: str
    date: str
    validity: str
    url: str
    retired: bool
    replaced_by: str
    replaced_by_title: str
    warning: str


class QuestionJson(TypedDict):
    question: str
    said: str
    kind: str
    answered: bool
    answer: str
    text: str
    confidence: float
    citations: list[CitationJson]


class CaseJson(TypedDict):
    message_id: str
    title: str
    gist: str
    department: str
    date: str
    asked_at: str
    score: float


class TurnJson(TypedDict):
    role: str
    label: str
    text: str


class AssistJson(TypedDict):
    questions: list[QuestionJson]
    request_type: str
    category: str
    category_confidence: float
    department: str
    category_department: str
    department_basis: str
    similar_cases: list[CaseJson]
    work_order: dict[str, Any]
    turns: list[TurnJson]
    source: str
    roles_inferred: bool
    timings_ms: dict[str, float]


def _citation(source: Source) -> CitationJson:
    return CitationJson(
        doc_id=source.doc_id,
        title=source.title,
        doc_number=source.doc_number,
        issuer=source.issuer,
        date=source.date,
        validity=source.validity,
        url=source.url,
        retired=source.retired,
        replaced_by=source.replaced_by,
        replaced_by_title=source.replaced_by_title,
        warning=source.warning,
    )


def _question(suggestion: Suggestion) -> QuestionJson:
    return QuestionJson(
        question=mask_personal_data(suggestion.question.text),
        said=mask_personal_data(suggestion.question.said),
        kind=suggestion.question.kind,
        answered=suggestion.answered,
        answer=suggestion.answer,
        text=suggestion.text,
        confidence=suggestion.confidence,
        citations=[_citation(source) for source in suggestion.citations],
    )


def assistance_json(assistance: Assistance) -> AssistJson:
    """The console's JSON of a call, every number the caller said masked (the callback phone included)."""
    order = {
        key: mask_personal_data(value) if isinstance(value, str) else value
        for key, value in assistance.work_order.as_dict(for_operator=False).items()
    }
    category = assistance.category
    return AssistJson(
        questions=[_question(s) for s in assistance.suggestions],
        request_type=assistance.request_type.value,
        category=category.path,
        category_confidence=category.confidence,
        department=assistance.department,
        category_department=assistance.category_department or assistance.department,
        department_basis=assistance.department_basis,
        similar_cases=[
            CaseJson(
                message_id=case.message_id,
                title=case.title,
                gist=case.gist,
                department=case.department,
                date=(case.replied_at or case.asked_at).date().isoformat(),
                asked_at=case.asked_at.isoformat(timespec="minutes"),
                score=case.score,
            )
            for case in assistance.similar_cases
        ],
        work_order=order,
        turns=[
            TurnJson(role=turn.role.value, label=turn.role.label, text=mask_personal_data("".join(turn.sentences)))
            for turn in assistance.transcript.turns
        ],
        source=assistance.transcript.source,
        roles_inferred=assistance.transcript.roles_inferred,
        timings_ms=dict(assistance.timings_ms),
    )


def with_phone(result: AssistJson, phone: str, for_operator: bool) -> AssistJson:
    """The result with the draft's callback number: in full for the operator, masked for anyone else."""
    order = dict(result["work_order"])
    order[PHONE_FIELD] = (phone if for_operator else mask_phone(phone)) if phone else ""
    return {**result, "work_order": order}
