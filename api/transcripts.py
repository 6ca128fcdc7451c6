"""The transcript the hotline routes accept, as a schema an integrator can generate a client from.

``transcript`` is one of: text; FunASR's offline result ``{"sentence_info": [{text, start, end, spk}]}`` (or a
list of them, or ``{"text"}`` without speakers); FunASR's streaming messages ``{mode, text, is_final,
stamp_sents}`` (one or a list); a segment list ``[{speaker, text, start_ms, end_ms}]`` (or ``{"segments": …}``).
The limits are the deployment's (POLICY_HOTLINE__MAX_CHARS, __MAX_SEGMENTS), so a transcript valid by the
schema is read: every text at most MAX_CHARS characters, without control characters (tab and line breaks are
text) and with at least one letter, digit or Chinese character; speakers at most 64 characters; times in
milliseconds; lists of 1 to MAX_SEGMENTS items. Keys an ASR engine adds beyond these are ignored.

A transcript outside the schema gets the hotline's own error (``transcript_error``): 400 empty_transcript,
415 binary_transcript, 422 control_characters / transcript_too_large / malformed_transcript; anything that is
not text, an object or a list, 422 invalid_request. (No ``from __future__ import annotations``: the models
are built per deployment and their annotations name the limits.)
"""

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from hotline.calls import check_characters
from hotline.errors import TranscriptError
from hotline.transcript import parse_transcript

from .errors import ApiError

# control characters and U+FFFD (what a binary file decodes to); tab, line feed and carriage return are text
CONTROL_CHARS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f" + "\ufffd"
_CONTENT = "0-9A-Za-z\u4e00-\u9fff"
# the first letter, digit or Chinese character splits the text in two unambiguous parts: linear to match
SAID = f"^[^{CONTROL_CHARS}{_CONTENT}]*[{_CONTENT}][^{CONTROL_CHARS}]*$"
PLAIN = f"^[^{CONTROL_CHARS}]*$"
MAX_MS = 86_400_000  # a day: no call is longer
MAX_SPEAKER = 64  # the segments table's speaker column
MODES = Literal["online", "offline", "2pass", "2pass-online", "2pass-offline"]
DESCRIPTION = (
    'text (labelled 坐席：/市民： lines or not, punctuated or not; a string opening with {" or [{ is read as the '
    "JSON it holds), FunASR's offline result or streaming messages, or [{speaker, text, start_ms, end_ms}]"
)


class _Wire(BaseModel):
    """An ASR engine's object: JSON types as they are (no "1" for 1), unknown keys ignored."""

    model_config = ConfigDict(strict=True, regex_engine="python-re", extra="ignore")


def _integral(value: Any) -> Any:
    """1.0 is the integer 1 in JSON (and to JSON Schema); strict validation would refuse it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def transcript_request(max_chars: int, max_items: int) -> type[BaseModel]:
    """The body ``{"transcript": …}`` with the deployment's limits declared in its schema."""
    said = Annotated[str, StringConstraints(min_length=1, max_length=max_chars, pattern=SAID)]
    plain = Annotated[str, StringConstraints(max_length=max_chars, pattern=PLAIN)]
    speaker_id = (
        Annotated[str, StringConstraints(max_length=MAX_SPEAKER, pattern=PLAIN)]
        | Annotated[int, Field(ge=0, le=9999), BeforeValidator(_integral)]
    )
    millis = Annotated[float, Field(ge=0, le=MAX_MS, allow_inf_nan=False)]

    class FunasrSentence(_Wire):
        text: said
        start: millis | None = None
        end: millis | None = None
        spk: speaker_id | None = Field(None, description="FunASR's speaker number")

    class FunasrResult(_Wire):
        """FunASR's offline result with speakers (``sentence_info``)."""

        sentence_info: Annotated[list[FunasrSentence], Field(min_length=1, max_length=max_items)]
        text: plain | None = None

    class FunasrText(_Wire):
        """FunASR's offline result without speakers: the call as one text."""

        text: said

    class StreamStamp(_Wire):
        text_seg: said
        punc: Annotated[str, StringConstraints(max_length=8, pattern=PLAIN)] | None = None
        start: millis | None = None
        end: millis | None = None

    class StreamMessage(_Wire):
        """A FunASR websocket message; in 2pass mode only the corrected ``2pass-offline`` ones are read."""

        mode: MODES
        text: said
        is_final: bool | None = None
        stamp_sents: Annotated[list[StreamStamp], Field(max_length=max_items)] | None = None

    class TranscriptSegment(_Wire):
        speaker: speaker_id = Field(description="a label (坐席, 市民, A, 说话人1) or a speaker number")
        text: said
        start_ms: millis | None = None
        end_ms: millis | None = None

    class TranscriptSegments(_Wire):
        segments: Annotated[list[TranscriptSegment], Field(min_length=1, max_length=max_items)]

    def listed(item: type[_Wire]) -> Any:
        return Annotated[list[item], Field(min_length=1, max_length=max_items)]  # type: ignore[valid-type]

    any_transcript = (
        said
        | FunasrResult
        | FunasrText
        | TranscriptSegments
        | StreamMessage
        | listed(FunasrResult)
        | listed(StreamMessage)
        | listed(TranscriptSegment)
    )

    class TranscriptRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", regex_engine="python-re")

        transcript: any_transcript = Field(description=DESCRIPTION)  # type: ignore[valid-type]

    return TranscriptRequest


def transcript_of(body: Any) -> str | dict[str, Any] | list[Any]:
    """The transcript of a validated ``transcript_request`` body, as the hotline reads it."""
    return transcript_input(body.transcript)


def transcript_input(value: Any) -> str | dict[str, Any] | list[Any]:
    """A validated transcript as the hotline reads it: known keys only, absent values left out."""
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_none=True)
    if isinstance(value, list):
        return [transcript_input(item) for item in value]
    return str(value)


class TranscriptRejected(ApiError):
    """A transcript the hotline cannot read, with the status its domain error carries."""

    def __init__(self, error: TranscriptError) -> None:
        super().__init__(error.message)
        self.code = error.code
        self.status = error.status


class InvalidTranscript(ApiError):
    status = 422
    code = "invalid_request"


def transcript_error(max_chars: int) -> Callable[[RequestValidationError], ApiError | None]:
    """A translator of validation errors (api.errors): a transcript outside the schema gets its hotline error."""

    def translate(error: RequestValidationError) -> ApiError | None:
        errors = list(error.errors())
        if not errors or any(tuple(e.get("loc", ()))[:2] != ("body", "transcript") for e in errors):
            return None
        raw = error.body.get("transcript") if isinstance(error.body, dict) else None
        if not isinstance(raw, str | dict | list):  # missing, null or a number
            return InvalidTranscript("请求格式不正确：transcript 应为文本、FunASR 结果或片段列表。")
        return TranscriptRejected(_reason(raw, max_chars))

    return translate


def _reason(raw: str | dict[str, Any] | list[Any], max_chars: int) -> TranscriptError:
    """What is wrong with a transcript the schema refused, as the hotline's reader says it."""
    if not raw:
        return TranscriptError.empty()
    try:
        check_characters(raw)
        if isinstance(raw, str) and "\ufffd" in raw:
            return TranscriptError.binary()
        parse_transcript(raw, max_chars)
    except TranscriptError as found:
        return found
    if isinstance(raw, str):
        return TranscriptError.empty()  # read, but without a letter, digit or Chinese character the schema asks
    return TranscriptError.malformed("应为 FunASR 结果、FunASR 流式消息或 [{speaker, text, start_ms, end_ms}] 片段列表")
