"""One error for everything a transcript can be wrong about; it carries its HTTP status and a stable code."""

from __future__ import annotations


class TranscriptError(Exception):
    """A transcript that cannot be read: empty, too large, binary or malformed. The message is for people."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    @classmethod
    def empty(cls) -> TranscriptError:
        return cls("empty_transcript", "转写文本为空，或没有可识别的文字。", 400)

    @classmethod
    def too_large(cls, limit: int) -> TranscriptError:
        return cls("transcript_too_large", f"转写文本过长（最多 {limit} 个字符）。", 422)

    @classmethod
    def binary(cls) -> TranscriptError:
        return cls("binary_transcript", "这不是文本：请粘贴语音识别的文字或 JSON 结果，而不是音频或其他文件。", 415)

    @classmethod
    def malformed(cls, reason: str) -> TranscriptError:
        return cls("malformed_transcript", f"无法识别的转写格式：{reason}", 422)
