"""Feedback: thanks for 有用, an apology and a way to a person for 没用."""

from __future__ import annotations

from actions.feedback import ActionRecordFeedback

from .conversations import run, tracker


def test_positive_feedback_is_thanked_and_recorded() -> None:
    result = run(
        ActionRecordFeedback(),
        tracker("有用", "feedback_positive", slots={"current_doc_id": "qh-policy-employment-2025"}),
    )
    assert "感谢" in result.text
    assert result.payload["feedback"] == "positive" and result.payload["doc_ids"] == ["qh-policy-employment-2025"]
    assert result.payload["buttons"] == []


def test_negative_feedback_apologises_and_offers_a_person() -> None:
    result = run(ActionRecordFeedback(), tracker("没用", "feedback_negative"))
    assert "抱歉" in result.text and "12345" in result.text
    assert result.payload["feedback"] == "negative" and result.payload["reply"] == "feedback"
    assert result.payload["buttons"] == [{"title": "转人工", "payload": "/request_human"}]
