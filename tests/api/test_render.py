"""The chat page and the channels' welcome name the deployment's government and hotline from its settings."""

from __future__ import annotations

from api.render import chat_page, welcome_text
from knowledge.settings import ServiceSettings

OTHER_COUNTY = ServiceSettings(
    hotline_name="市民服务热线", hotline_number="96345", government_name="白河县人民政府", region_name="白河县"
)


def test_chat_page_is_rendered_for_the_deployment() -> None:
    page = chat_page(OTHER_COUNTY)
    assert "<title>白河县政策咨询助手</title>" in page
    assert 'data-hotline="96345市民服务热线"' in page  # what chat.js names in its error messages
    assert 'href="tel:96345"' in page and "依据白河县人民政府公开政策文件作答" in page
    assert "12345" not in page and "青禾" not in page


def test_chat_page_escapes_the_settings() -> None:
    page = chat_page(ServiceSettings(region_name='<script>alert("x")</script>'))
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_welcome_names_the_deployment() -> None:
    text = welcome_text(OTHER_COUNTY)
    assert "白河县政策咨询助手" in text and "96345市民服务热线" in text and "12345" not in text
