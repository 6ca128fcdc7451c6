"""Decode text files from the encodings Chinese government sites and offices actually use."""

from __future__ import annotations

import codecs
from pathlib import Path

from charset_normalizer import from_bytes

from knowledge.errors import IngestError

# Isolating the candidates keeps charset-normalizer from reading short GBK text as Korean
# cp949 or Japanese: files here are UTF-8, mainland GB, Taiwanese Big5 or Western legacy.
_CANDIDATES = ["utf_8", "gb18030", "big5", "cp1252"]
# GB18030 is a superset of GB2312 and GBK, so it also decodes the characters they lack
_GB_FAMILY = {"gb2312", "gbk", "cp936", "gb18030", "hz"}
_PREFERENCE = {"utf_8": 0, "gb18030": 1, "big5": 2}
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _python_codec(name: str) -> str:
    """Map a detected encoding to the codec to decode with (GB family to gb18030)."""
    normalized = codecs.lookup(name).name.replace("-", "_")
    return "gb18030" if normalized in _GB_FAMILY else normalized


def _is_utf8(data: bytes) -> bool:
    """Whether the bytes are valid UTF-8 (a BOM is allowed)."""
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(data: bytes) -> str | None:
    """The codec for ``data``: UTF-8 (with or without BOM) first, then charset-normalizer."""
    if data.startswith(_UTF16_BOMS):
        return "utf_16"
    if _is_utf8(data):
        return "utf-8-sig"
    if b"\x00" in data:
        return None
    matches = list(from_bytes(data, cp_isolation=_CANDIDATES))
    if not matches:
        return None
    # on a tie (very short text) prefer mainland GB over Big5 over Western code pages
    best = min(matches, key=lambda match: (match.chaos, _PREFERENCE.get(match.encoding, 9)))
    return _python_codec(best.encoding)


def decode_text(path: Path, data: bytes) -> str:
    """Decode a text file's bytes; IngestError when no encoding fits."""
    encoding = detect_encoding(data)
    if encoding is None:
        raise IngestError(str(path), "无法识别文件编码（支持 UTF-8、GBK/GB18030、Big5）")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise IngestError(str(path), f"文件无法按 {encoding} 解码：第 {error.start} 字节出错") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")
