"""Every reply naming the hotline names the deployment's own (ServiceSettings), not the sample county's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from actions import replies
from knowledge.settings import ServiceSettings


@pytest.fixture
def other_county() -> Iterator[ServiceSettings]:
    service = ServiceSettings(hotline_name="市民服务热线", hotline_number="96345", government_name="白河县人民政府")
    replies.configure(service)
    yield service
    replies.configure(ServiceSettings())


def test_replies_name_the_configured_hotline(other_county: ServiceSettings) -> None:
    texts = [
        replies.no_answer_text(),
        replies.unknown_document_text(),
        replies.handoff_text("GD20261201-0001"),
        replies.handoff_unrecorded_text(),
        replies.complaint_text("GD20261201-0002", "138****5678"),
        replies.complaint_unrecorded_text(),
        replies.feedback_text(positive=False),
        replies.unavailable_text(),
    ]
    for text in texts:
        assert "96345市民服务热线" in text and "12345" not in text, text
