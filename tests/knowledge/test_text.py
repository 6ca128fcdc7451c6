"""Matching text: script folding, abbreviations citizens use, and terms that carry no topic."""

from __future__ import annotations

from knowledge.text import expand_abbreviations, is_function_bigram, normalize, tokenize, words


def test_traditional_and_full_width_fold_to_simplified() -> None:
    assert normalize("臺北市　低收入戶申請ＡＢＣ") == "台北市 低收入户申请ABC"


def test_abbreviations_gain_their_full_form() -> None:
    assert expand_abbreviations("县人社局电话") == "县人社局人力资源和社会保障局电话"
    assert "医疗保障局" in normalize("医保局在哪") and "医疗保险局" not in normalize("医保局在哪")
    assert "人力资源" in words("人社局几点下班")


def test_function_words_and_straddling_bigrams_carry_no_topic() -> None:
    assert words("的了是在我有") == []
    assert is_function_bigram("么材") and is_function_bigram("需要") and not is_function_bigram("材料")
    assert "材料" in tokenize("那需要什么材料？")
