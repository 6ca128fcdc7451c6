"""Personal numbers — mobile and landline phones, ID-card and bank-card numbers: finding, masking, validating.

Every pattern for them lives here. Masking before anything is logged or stored, the complaint form's phone
check and contact extraction from call transcripts all read numbers the same way, as citizens and speech
recognition write them: full-width digits, Chinese numerals (一三八…, 幺 for 1, 两 for 2, 零/〇 for 0) also
mixed with digits, any spaces (ideographic, no-break, thin), dots, dashes and brackets in any grouping,
+86 / 0086 with or without brackets, area codes in () or （）, 15- and 18-digit IDs ending in X.

What is never masked: short service numbers (12345, 12315, 12333…), 文号 such as 〔2023〕12号, dates, years,
amounts, work-order numbers — none of them has a personal number's length and shape.

Citizen text and quoted text: a citizen's question, form answers, transcripts and imported messages are
masked with ``mask_personal_data(text)``. Text quoted from published documents (an answer giving an
office's line) is public; the conversation log stores the answer as quoted. Where one text mixes both (a
call transcript in which the operator reads out an office line), pass the published numbers as ``keep``:
``mask_personal_data(transcript, keep=find_phones(document_text))``.

Numbers are read in one linear pass (no nested quantifiers), so a long text masks in milliseconds.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from itertools import accumulate

_DIGITS = {
    **{chr(ord("0") + n): str(n) for n in range(10)},
    **{chr(ord("０") + n): str(n) for n in range(10)},
    **dict(zip("零〇○一二三四五六七八九幺两", "00012345678912", strict=True)),
}
_CHECK_X = "XxＸｘ"  # the check character of an 18-digit ID
# spaces of every width but line breaks (a line break ends a number: table rows are not one number),
# dashes, dots and brackets; "+" opens a country code
_SEPARATORS = (
    " \u00a0\u1680\u2000-\u200b\u202f\u205f\u2060\u3000\ufeff"
    "\\-\u2010-\u2015\u2212\uff0d\ufe58\ufe63"
    ".\uff0e\u00b7\u30fb\u2022"
    "()\uff08\uff09+\uff0b"
)
_DIGIT_CLASS = "".join(_DIGITS)
# a run of digits joined by at most four separators at a time: the two classes are disjoint, so the
# match is found without backtracking
_RUN = re.compile(f"[{_DIGIT_CLASS}](?:[{_SEPARATORS}]{{0,4}}[{_DIGIT_CLASS}])*[{_CHECK_X}]?")
_ASCII = str.maketrans({**_DIGITS, **dict.fromkeys(_CHECK_X, "X")})
_ASCII_GROUP = re.compile("[0-9]+X?")  # a group of digits once _ASCII translated them
_NOT_DIGIT = re.compile("[^0-9X]")
_LONGEST = 19  # a bank card; the longest phone with its country code (0086 + 11) is 15 digits
_SHORTEST = 10  # a landline with a three-digit area code

_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0(?:10|2\d|[3-9]\d{2})[2-9]\d{6,7}")
# the province codes an ID number starts with
_ID_REGIONS = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46".split()
    + "50 51 52 53 54 61 62 63 64 65 71 81 82 83 91".split()
)
_ID_18 = re.compile(r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dX]")
_ID_15 = re.compile(r"[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}")
_BANK_CARD = re.compile(r"[3-69]\d{15,18}")


class NumberKind(Enum):
    MOBILE = "mobile"
    LANDLINE = "landline"
    ID_CARD = "id_card"
    BANK_CARD = "bank_card"


PHONE_KINDS = frozenset({NumberKind.MOBILE, NumberKind.LANDLINE})


@dataclass(frozen=True)
class PersonalNumber:
    """A personal number found in a text: where it is written and what it is, in plain ASCII digits."""

    kind: NumberKind
    digits: str  # without the country code; an ID's check character upper-case
    start: int
    end: int
    kept: str  # written text left in clear before the masked part: a country code, an area code

    @property
    def masked(self) -> str:
        """138****5678, 0631-***1188, 110***********1234, ************7890."""
        digits = self.digits
        if self.kind is NumberKind.MOBILE:
            return f"{self.kept}{digits[:3]}****{digits[-4:]}"
        if self.kind is NumberKind.LANDLINE:
            local = digits[_area_length(digits) :]
            return f"{self.kept}{'*' * (len(local) - 4)}{local[-4:]}"
        if self.kind is NumberKind.ID_CARD:
            return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
        return f"{'*' * (len(digits) - 4)}{digits[-4:]}"


def _area_length(landline: str) -> int:
    """010 and 02x are three digits long, every other area code (0631) four."""
    return 3 if landline[1] in "12" else 4


def _national(digits: str) -> tuple[str, int]:
    """The number without a +86 / 0086 country code, and how many digits the code took."""
    for code in ("0086", "86"):
        rest = digits[len(code) :]
        if digits.startswith(code) and (_MOBILE.fullmatch(rest) or _LANDLINE.fullmatch("0" + rest)):
            return rest, len(code)
    return digits, 0


def _classify(digits: str, cuts: list[int]) -> tuple[NumberKind, str, int] | None:
    """What a window of digit groups is (kind, digits, how many leading digits stay in clear); ``cuts``
    are where its groups end, the last one its length."""
    national, code = _national(digits) if digits[0] in "08" else (digits, 0)
    if _MOBILE.fullmatch(national):
        return NumberKind.MOBILE, national, code
    landline = national if code == 0 else "0" + national
    if _LANDLINE.fullmatch(landline):
        area = code + _area_length(landline) - (1 if code else 0)
        # written in groups, the area code is a group of its own: "0631 520 1234", not "063 1520 1234"
        if len(cuts) == 1 or area in cuts:
            return NumberKind.LANDLINE, landline, area
    if digits[:2] in _ID_REGIONS and (_ID_18.fullmatch(digits) or _ID_15.fullmatch(digits)):
        return NumberKind.ID_CARD, digits, 0
    # a card is written whole or in fours (4-4-4-4, 4-4-4-4-3): a row of years is not a card
    if _BANK_CARD.fullmatch(digits) and all(cut == 4 * n for n, cut in enumerate(cuts[:-1], 1)):
        return NumberKind.BANK_CARD, digits, 0
    return None


def _kept_text(text: str, start: int, digit_count: int) -> str:
    """The text of the first ``digit_count`` digits from ``start`` and the separators after them, without
    an opening bracket the masked part closes ("+86 (138) …")."""
    position, seen = start, 0
    while seen < digit_count:
        seen += text[position] in _DIGITS
        position += 1
    while position < len(text) and text[position] not in _DIGITS:
        position += 1
    return text[start:position].rstrip("(（")


def _in_run(text: str, run: re.Match[str]) -> Iterable[PersonalNumber]:
    """The personal numbers of one run, each the longest window of its digit groups that is one."""
    offset, ascii_run = run.start(), run[0].translate(_ASCII)
    groups = [(group.start() + offset, group.end() + offset) for group in _ASCII_GROUP.finditer(ascii_run)]
    digits = _NOT_DIGIT.sub("", ascii_run)
    ends = list(accumulate(end - start for start, end in groups))
    first = 0
    while first < len(groups):
        begin = ends[first] - (groups[first][1] - groups[first][0])
        last = bisect_right(ends, begin + _LONGEST, lo=first)
        cuts = [cut - begin for cut in ends[first:last]]
        found = None
        for end in range(last, first, -1):
            size = cuts[end - first - 1]
            if size >= _SHORTEST and (found := _classify(digits[begin : begin + size], cuts[: end - first])):
                break
        if found is None:
            first += 1
            continue
        kind, number, kept = found
        start, stop = groups[first][0], groups[end - 1][1]
        yield PersonalNumber(kind, number, start, stop, _kept_text(text, start, kept) if kept else "")
        first = end


def _inside_a_code(text: str, start: int, end: int) -> bool:
    """Digits glued to Latin letters belong to a code or an address (GD20261201, art_2023…), not to a person."""
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    return any(char.isascii() and (char.isalpha() or char == "_") for char in (before, after))


def find_personal_numbers(text: str) -> list[PersonalNumber]:
    """Every phone, ID-card and bank-card number in the text, in order."""
    found: list[PersonalNumber] = []
    for run in _RUN.finditer(text or ""):
        if not _inside_a_code(text, run.start(), run.end()):
            found += _in_run(text, run)
    return found


def find_phones(text: str) -> list[str]:
    """The mobile and landline numbers in a text (a call transcript, a form answer) as plain digits."""
    return [number.digits for number in find_personal_numbers(text) if number.kind in PHONE_KINDS]


def parse_phone(text: str) -> str | None:
    """The first phone number in a reply such as ``我的电话是一三八 1234 5678``, as digits; else None."""
    phones = find_phones(text)
    return phones[0] if phones else None


def _digits_of(number: str) -> str:
    found = find_personal_numbers(number)
    return found[0].digits if found else "".join(_DIGITS.get(char, "") for char in number)


def mask_personal_data(text: str, keep: Iterable[str] = ()) -> str:
    """The text with phone, ID-card and bank-card numbers masked (138****5678); numbers in ``keep``
    (published ones, in any writing) are left as written."""
    if not text:
        return text
    kept = {_digits_of(number) for number in keep}
    parts, position = [], 0
    for number in find_personal_numbers(text):
        if number.digits in kept:
            continue
        parts += [text[position : number.start], number.masked]
        position = number.end
    parts.append(text[position:])
    return "".join(parts)


def mask_phone(phone: str) -> str:
    """A phone number as it may be shown back to the user or logged."""
    return mask_personal_data(phone)
