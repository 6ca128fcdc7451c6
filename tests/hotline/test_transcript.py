"""Transcripts in every style hotline systems produce are read into the caller's and the operator's turns."""

from __future__ import annotations

import json

import pytest

from hotline.errors import TranscriptError
from hotline.roles import Role
from hotline.transcript import Transcript, parse_transcript


def roles(transcript: Transcript) -> list[str]:
    return [turn.role.value for turn in transcript.turns]


def caller_sentences(transcript: Transcript) -> list[str]:
    return [s for turn in transcript.said_by(Role.CALLER) for s in turn.sentences]


def test_labelled_text_keeps_the_labelled_roles_and_drops_fillers_and_stutters() -> None:
    transcript = parse_transcript(
        "坐席：您好，12345政务服务便民热线，请问有什么可以帮您？\n"
        "市民：嗯，你好，我想问一下我想问一下，那个，城乡居民医保每年交多少钱？\n"
        "坐席：今年每人每年380元。\n"
        "市民：好的谢谢。"
    )
    assert roles(transcript) == ["operator", "caller", "operator", "caller"]
    assert not transcript.roles_inferred
    assert "你好，我想问一下，城乡居民医保每年交多少钱？" in caller_sentences(transcript)


@pytest.mark.parametrize(
    ("operator", "caller"), [("客服", "来电人"), ("话务员", "群众"), ("坐席", "市民"), ("工作人员", "居民")]
)
def test_every_label_pair_with_either_colon_and_time_stamps(operator: str, caller: str) -> None:
    transcript = parse_transcript(
        f"[00:00:01] {operator}: 您好，这里是12345热线。\n[00:00:05] {caller}：我想咨询低保怎么申请？\n下一行接着说。"
    )
    assert roles(transcript) == ["operator", "caller"]
    assert transcript.turns[1].sentences == ("我想咨询低保怎么申请？", "下一行接着说。")


def test_anonymous_speakers_the_one_who_greets_is_the_operator_even_when_the_caller_speaks_first() -> None:
    transcript = parse_transcript(
        "A：喂？\nB：您好，12345热线，工号0231，很高兴为您服务。\nA：我想问一下义务教育入学要带什么材料。\nB：请您稍等。"
    )
    assert roles(transcript) == ["caller", "operator", "caller", "operator"]
    assert transcript.roles_inferred


def test_jia_yi_labels() -> None:
    transcript = parse_transcript(
        "甲：您好，请问有什么可以帮您？\n乙：你们那个养老服务补贴怎么领？\n甲：感谢您的来电。"
    )
    assert roles(transcript) == ["operator", "caller", "operator"]


def test_unlabelled_lines_alternate_and_clear_cues_decide() -> None:
    transcript = parse_transcript(
        "您好，这里是12345热线，请问有什么可以帮您？\n大学生创业补贴能领多少钱\n最高一万元\n那需要什么条件？"
    )
    assert roles(transcript) == ["operator", "caller", "operator", "caller"]


def test_unpunctuated_asr_output_is_split_into_sentences_by_openers_and_particles() -> None:
    transcript = parse_transcript(
        "您好青禾县12345热线请问有什么可以帮您 嗯我想问一下那个城乡居民医保每年交多少钱然后呢就是说报销比例是多少"
        " 好的您稍等根据文件规定每人每年交380元 那我电话是一三八零零一二一二四五六 好的感谢您的来电"
    )
    said = caller_sentences(transcript)
    assert "我想问一下那个城乡居民医保每年交多少钱" in said  # 那个 before a noun may point back: kept here
    assert "报销比例是多少" in said
    assert "那我电话是一三八零零一二一二四五六" in said  # spoken numbers kept whole, "一二一二" not collapsed
    assert transcript.turns[0].role is Role.OPERATOR and transcript.turns[-1].role is Role.OPERATOR


def test_funasr_sentence_info_with_speaker_numbers_and_times() -> None:
    result = {
        "key": "call-1",
        "text": "您好，请问有什么可以帮您？我想问高龄津贴每个月发多少。每月100元。",
        "sentence_info": [
            {"text": "您好，请问有什么可以帮您？", "start": 0, "end": 2300, "spk": 0},
            {"text": "我想问高龄津贴每个月发多少。", "start": 2500, "end": 5200, "spk": 1},
            {"text": "八十岁以上的，", "start": 5300, "end": 6100, "spk": 0},
            {"text": "每月100元。", "start": 6100, "end": 7000, "spk": 0},
        ],
    }
    transcript = parse_transcript(json.dumps(result, ensure_ascii=False))
    assert transcript.source == "funasr"
    assert roles(transcript) == ["operator", "caller", "operator"]
    last = transcript.turns[-1]
    assert (last.start_ms, last.end_ms, last.speaker) == (5300, 7000, "spk0")
    assert parse_transcript([result]).turns == transcript.turns  # a result list reads the same


def test_funasr_2pass_stream_reads_only_the_corrected_offline_passes() -> None:
    messages = [
        {"mode": "2pass-online", "text": "您好请", "wav_name": "call", "is_final": False},
        {
            "mode": "2pass-offline",
            "text": "您好，请问有什么可以帮您？",
            "is_final": False,
            "stamp_sents": [{"text_seg": "您 好 请 问 有 什 么 可 以 帮 您", "punc": "？", "start": 0, "end": 2100}],
        },
        {"mode": "2pass-online", "text": "我想问", "is_final": False},
        {
            "mode": "2pass-offline",
            "text": "我想问一下低保怎么申请？",
            "is_final": True,
            "stamp_sents": [{"text_seg": "我 想 问 一 下 低 保 怎 么 申 请", "punc": "？", "start": 2400, "end": 4800}],
        },
    ]
    lines = "\n".join(json.dumps(m, ensure_ascii=False) for m in messages)  # as JSON lines, the way a socket logs them
    transcript = parse_transcript(lines)
    assert transcript.source == "funasr_stream"
    assert [t.sentences for t in transcript.turns] == [("您好请问有什么可以帮您？",), ("我想问一下低保怎么申请？",)]
    assert roles(transcript) == ["operator", "caller"]
    assert transcript.turns[1].start_ms == 2400


def test_funasr_online_only_chunks_are_joined() -> None:
    messages = [
        {"mode": "online", "text": "你好我想问一下", "is_final": False},
        {"mode": "online", "text": "低保怎么申请", "is_final": True},
    ]
    transcript = parse_transcript(messages)
    assert "我想问一下低保怎么申请" in "".join(caller_sentences(transcript))


def test_plain_segment_list() -> None:
    segments = [
        {"speaker": "operator", "text": "您好，12345热线。", "start_ms": 0, "end_ms": 1500},
        {"speaker": "caller", "text": "我想问公积金提取租房要什么材料", "start_ms": 1600, "end_ms": 4000},
    ]
    transcript = parse_transcript(json.dumps({"segments": segments}, ensure_ascii=False))
    assert transcript.source == "segments"
    assert roles(transcript) == ["operator", "caller"]
    assert transcript.turns[1].end_ms == 4000


def test_gbk_bytes_are_read() -> None:
    transcript = parse_transcript("坐席：您好。\n市民：我想问一下低保怎么申请？".encode("gb18030"))
    assert caller_sentences(transcript) == ["我想问一下低保怎么申请？"]


@pytest.mark.parametrize(
    ("raw", "code", "status"),
    [
        ("", "empty_transcript", 400),
        ("   \n\t ", "empty_transcript", 400),
        ("嗯嗯。啊。呃", "empty_transcript", 400),
        ("坐席：您好" + "。" * 100_001, "transcript_too_large", 422),  # over the declared maxLength: 422
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary_transcript", 415),
        (b"\xff\xfe\xfa\xfb\xfc" * 20, "binary_transcript", 415),
        ('{"sentence_info": [', "malformed_transcript", 422),
        ('{"foo": 1}', "malformed_transcript", 422),
        ([1, 2, 3], "malformed_transcript", 422),
    ],
)
def test_unreadable_input_gets_one_clear_error_with_its_status(
    raw: str | bytes | list[int], code: str, status: int
) -> None:
    with pytest.raises(TranscriptError) as caught:
        parse_transcript(raw)
    assert (caught.value.code, caught.value.status) == (code, status)
    assert caught.value.message and "坐席" not in caught.value.message  # never echoes the transcript


def test_the_size_limit_is_a_setting() -> None:
    with pytest.raises(TranscriptError):
        parse_transcript("坐席：您好，请问有什么可以帮您？", max_chars=10)
    assert parse_transcript("坐席：您好，请问有什么可以帮您？", max_chars=100).turns


def test_text_opening_with_a_bracket_is_still_text() -> None:
    transcript = parse_transcript("[00:01] 坐席：您好。\n[00:03] 市民：请问低保怎么申请？")
    assert roles(transcript) == ["operator", "caller"]


def test_a_string_holding_json_is_read_as_json_and_other_bracketed_text_as_text() -> None:
    funasr = json.dumps({"sentence_info": [{"text": "我想问一下低保怎么申请？", "spk": 1}]}, ensure_ascii=False)
    assert parse_transcript(funasr).source == "funasr"
    assert parse_transcript("[1] 市民：低保怎么申请？").source == "text"  # JSON, but not an ASR object: text
    assert parse_transcript("{低保怎么申请").source == "text"  # a brace, not JSON
    with pytest.raises(TranscriptError) as caught:
        parse_transcript('{"sentence_info": [{"text": "低保"')  # meant as JSON, cut off
    assert caught.value.code == "malformed_transcript"


def test_the_size_of_json_is_the_size_of_what_it_says() -> None:
    said = "我想问一下低保怎么申请" * 9  # 99 characters; with keys and time stamps the JSON is longer than 100
    segments = [{"speaker": "市民", "text": said, "start_ms": 0, "end_ms": 90_000}]
    assert parse_transcript(segments, max_chars=100).turns
    with pytest.raises(TranscriptError) as caught:
        parse_transcript(segments * 2, max_chars=100)
    assert (caught.value.code, caught.value.status) == ("transcript_too_large", 422)
