"""Every reply naming the hotline names the deployment's own (ServiceSettings), not the sample county's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from actions import replies
from knowledge.document import Citation
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


def test_a_contact_reply_points_to_the_hotline_unless_it_is_the_hotlines_own_entry() -> None:
    citation = Citation(
        "qh-guide-contact-directory", "一览表", "service_guide", "", "县政府办公室", "2026-01-06", "现行有效", ""
    )
    office = replies.contact_text("四、县民政局", "咨询电话：0631-5231102", citation)
    assert office.endswith("不清楚找哪个部门的，可拨打12345政务服务便民热线。")
    own = replies.contact_text("十三、县12345政务服务便民热线工作中心", "服务电话：12345（24小时人工服务）", citation)
    assert "不清楚找哪个部门的" not in own and "服务电话：12345（24小时人工服务）" in own
