"""Call transcripts as hotline systems and recognisers produce them, read into the caller's and the operator's turns.

Accepted input (text or JSON, sniffed from its first character):

- plain text, one turn a line, with speaker labels (坐席/市民, 客服/来电人, 话务员/群众, A/B, 甲/乙,
  说话人1, optionally after a time stamp, with ： or :) or without labels, with or without punctuation;
- FunASR's offline result: ``{"text", "sentence_info": [{"text", "start", "end", "spk"}]}`` (or a list of them);
- FunASR's streaming messages: a list (or JSON lines) of ``{"mode", "text", "is_final", "stamp_sents":
  [{"text_seg", "punc", "start", "end"}]}``; in 2pass mode only the corrected ``*-offline`` messages are read;
- a plain segment list ``[{"speaker", "text", "start_ms", "end_ms"}]`` (or ``{"segments": [...]}``).

Roles come from labels when they name one, otherwise from what is said (see ``hotline.roles``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import TranscriptError
from .roles import LABEL_LINE, Role, assign_lines, assign_sentences, assign_speakers, label_role
from .spoken import clean_sentence, has_cjk, split_sentences

DEFAULT_MAX_CHARS = 100_000


@dataclass(frozen=True)
class Turn:
    """What one side said without interruption: as transcribed, and as clean sentences."""

    role: Role
    text: str
    sentences: tuple[str, ...]
    speaker: str = ""  # the label or speaker id as given ("坐席", "A", "spk0"); empty when there was none
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(frozen=True)
class Transcript:
    """A call's turns in order, where they came from, and whether roles were labelled or inferred."""

    turns: tuple[Turn, ...]
    source: str  # text | funasr | funasr_stream | segments
    roles_inferred: bool

    def said_by(self, role: Role) -> list[Turn]:
        return [turn for turn in self.turns if turn.role is role]

    def render(self) -> str:
        """The call as labelled text (坐席：… / 来电人：…), fillers removed."""
        return "\n".join(f"{turn.role.label}：{''.join(turn.sentences)}" for turn in self.turns)


@dataclass(frozen=True)
class _Segment:
    speaker: str
    text: str
    start_ms: int | None = None
    end_ms: int | None = None


def parse_transcript(
    raw: str | bytes | Mapping[str, Any] | Sequence[Any], max_chars: int = DEFAULT_MAX_CHARS
) -> Transcript:
    """Turns of a call from text or ASR JSON; a ``TranscriptError`` for empty, oversized, binary or malformed input."""
    if isinstance(raw, Mapping) or (isinstance(raw, Sequence) and not isinstance(raw, str | bytes)):
        return _read(_from_json(raw), max_chars)  # JSON's keys and time stamps are not the call: its texts count
    text = _decode(raw) if isinstance(raw, bytes) else raw
    _check_size(len(text), max_chars)
    if not text.strip():
        raise TranscriptError.empty()
    if _looks_binary(text):
        raise TranscriptError.binary()
    data = _json_or_none(text)
    return _read(_from_json(data), max_chars) if data is not None else _from_text(text)


def _decode(raw: bytes) -> str:
    if b"\x00" in raw[:4096]:
        raise TranscriptError.binary()
    for encoding in ("utf-8-sig", "gb18030"):  # hotline systems on Windows export GBK
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TranscriptError.binary()


def _check_size(chars: int, max_chars: int) -> None:
    if chars > max_chars:
        raise TranscriptError.too_large(max_chars)


def _read(transcript: Transcript, max_chars: int) -> Transcript:
    """A transcript read from JSON, refused when what it says is longer than a text transcript may be."""
    _check_size(sum(len(turn.text) for turn in transcript.turns), max_chars)
    return transcript


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    odd = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\n\r\t") or ch == "\ufffd")
    return odd > max(2, len(sample) // 100)


def _json_or_none(text: str) -> Any:
    """Parsed JSON when the text is a JSON object or a list of them (or JSON lines); None for plain text, even
    when it opens with a bracket ("[00:01] 坐席：…", "[1]"). Text opening with {" or [{ is meant as JSON."""
    stripped = text.strip()
    if stripped[0] not in "[{":
        return None
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError:
        lines = [line for line in stripped.splitlines() if line.strip()]
        try:
            data = [json.loads(line) for line in lines]
        except json.JSONDecodeError as error:
            if re.match(r'^(?:\{\s*"|\[\s*\{)', stripped):
                raise TranscriptError.malformed(f"JSON 第 {error.lineno} 行有误") from None
            return None
    objects = isinstance(data, dict) or (isinstance(data, list) and all(isinstance(item, dict) for item in data))
    return data if objects and data else None


# -- JSON -----------------------------------------------------------------------------------------------


def _from_json(data: Any) -> Transcript:
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(item, Mapping) for item in items):
        raise TranscriptError.malformed("JSON 应为对象或对象列表")
    if len(items) == 1 and isinstance(items[0].get("segments"), list):
        return _from_json(items[0]["segments"])
    if any("sentence_info" in item for item in items):
        sentences = [s for item in items for s in item.get("sentence_info") or []]
        segments = [_segment(s, "spk", "start", "end") for s in sentences if isinstance(s, Mapping)]
        return _build(segments, "funasr")
    if any(key in item for item in items for key in ("stamp_sents", "is_final", "mode")):
        return _from_stream(items)
    if all("text" in item for item in items) and any(k in item for item in items for k in ("speaker", "role", "spk")):
        return _build([_segment(item, "speaker", "start_ms", "end_ms") for item in items], "segments")
    if len(items) == 1 and isinstance(items[0].get("text"), str):
        return _from_text(items[0]["text"], source="funasr")
    raise TranscriptError.malformed("既不是 FunASR 结果，也不是 [{speaker, text, start_ms, end_ms}] 片段列表")


def _ms(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _segment(item: Mapping[str, Any], speaker_key: str, start_key: str, end_key: str) -> _Segment:
    speaker = item.get(speaker_key, item.get("role", item.get("spk", "")))
    if isinstance(speaker, int | float):
        speaker = f"spk{int(speaker)}"
    start = item.get(start_key, item.get("start"))
    end = item.get(end_key, item.get("end"))
    return _Segment(str(speaker or ""), str(item.get("text") or ""), _ms(start), _ms(end))


def _from_stream(messages: list[Mapping[str, Any]]) -> Transcript:
    """FunASR websocket messages: 2pass keeps the corrected offline passes; online-only chunks are joined."""
    final = [m for m in messages if "offline" in str(m.get("mode", ""))]
    if not final:
        joined = "".join(str(m.get("text") or "") for m in messages)
        if not joined.strip():
            raise TranscriptError.empty()
        return _from_text(joined, source="funasr_stream")
    sentences: list[_Segment] = []
    for message in final:
        stamps = [s for s in message.get("stamp_sents") or [] if isinstance(s, Mapping)]
        for stamp in stamps:
            said = str(stamp.get("text_seg") or "").replace(" ", "") + str(stamp.get("punc") or "")
            sentences.append(_Segment("", said, _ms(stamp.get("start")), _ms(stamp.get("end"))))
        if not stamps:
            sentences.extend(_Segment("", s) for s in split_sentences(str(message.get("text") or "")))
    return _by_sentence(sentences, "funasr_stream")


# -- text -----------------------------------------------------------------------------------------------


def _from_text(text: str, source: str = "text") -> Transcript:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if any(LABEL_LINE.match(line) for line in lines):
        segments: list[_Segment] = []
        for line in lines:
            match = LABEL_LINE.match(line)
            if match:
                segments.append(_Segment(match["label"], match["text"]))
            elif segments:  # a line without a label continues the turn before it
                last = segments[-1]
                segments[-1] = _Segment(last.speaker, f"{last.text}\n{line}")
            else:
                segments.append(_Segment("", line))
        return _build(segments, source)
    if len(lines) > 1:
        said = [_clean(line) for line in lines]
        roles = assign_lines(said)
        turns = [Turn(role, line, tuple(s)) for role, line, s in zip(roles, lines, said, strict=True) if s]
        return _finish(_merge(turns), source, inferred=True)
    return _by_sentence([_Segment("", s) for s in split_sentences(text)], source)


def _clean(text: str) -> list[str]:
    return [cleaned for sentence in split_sentences(text) if (cleaned := clean_sentence(sentence))]


def _by_sentence(sentences: list[_Segment], source: str) -> Transcript:
    """One unlabelled stream of sentences: roles sentence by sentence, consecutive ones merged into turns."""
    cleaned = [(s, clean_sentence(s.text)) for s in sentences]
    kept = [(s, c) for s, c in cleaned if c]
    roles = assign_sentences([c for _, c in kept])
    turns = [Turn(role, s.text, (c,), "", s.start_ms, s.end_ms) for role, (s, c) in zip(roles, kept, strict=True)]
    return _finish(_merge(turns), source, inferred=True)


def _build(segments: list[_Segment], source: str) -> Transcript:
    """Labelled or speaker-tagged segments: named roles kept, anonymous speakers assigned by what they say."""
    said = [_clean(segment.text) for segment in segments]
    named = {seg.speaker: role for seg in segments if (role := label_role(seg.speaker)) is not None}
    anonymous = [(seg.speaker, s) for seg, s in zip(segments, said, strict=True) if seg.speaker not in named]
    inferred = bool(anonymous)
    if anonymous:
        if named:  # the named side is known; every anonymous voice is the other one
            other = Role.CALLER if Role.OPERATOR in named.values() else Role.OPERATOR
            named.update({speaker: other for speaker, _ in anonymous})
        else:
            named.update(assign_speakers([a for a, _ in anonymous], [s for _, s in anonymous]))
    turns = [
        Turn(named[seg.speaker], seg.text, tuple(s), seg.speaker, seg.start_ms, seg.end_ms)
        for seg, s in zip(segments, said, strict=True)
        if s
    ]
    return _finish(_merge(turns), source, inferred)


def _merge(turns: list[Turn]) -> list[Turn]:
    """Consecutive turns of the same speaker are one turn (ASR engines cut at every pause)."""
    merged: list[Turn] = []
    for turn in turns:
        if merged and merged[-1].role is turn.role and merged[-1].speaker == turn.speaker:
            last = merged[-1]
            end = turn.end_ms if turn.end_ms is not None else last.end_ms
            merged[-1] = Turn(
                last.role, last.text + turn.text, last.sentences + turn.sentences, last.speaker, last.start_ms, end
            )
        else:
            merged.append(turn)
    return merged


def _finish(turns: list[Turn], source: str, inferred: bool) -> Transcript:
    if not any(has_cjk("".join(turn.sentences)) or any(ch.isalnum() for ch in turn.text) for turn in turns):
        raise TranscriptError.empty()
    return Transcript(tuple(turns), source, inferred)
