"""Chart labels: a channel's name is shown whole (Latin letters are half as wide as Chinese characters)."""

from __future__ import annotations

from monitor.charts import _label, _short


def test_a_channel_named_by_its_file_is_not_cut() -> None:
    # the importer names a channel by the export's file: 问政留言（messages_2019）
    assert _label("问政留言（messages_2019）") == "问政留言（messages_2019）"
    assert _label("问政留言（messages_with_replies）") == "问政留言\n（messages_with_replies）"
    assert _label("对话（网页）") == "对话（网页）"


def test_a_long_chinese_label_is_cut_with_an_ellipsis_at_sixteen_characters() -> None:
    label = _short("暮云街道丽发新城小区居民反映搅拌站噪音扰民问题严重")
    assert label.endswith("…") and len(label) == 16
