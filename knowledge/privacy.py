"""Masking of personal data (phone, ID-card and bank-card numbers) before text is logged or stored."""

from __future__ import annotations

import re

# (?<![\dA-Za-z]) / (?![\dA-Za-z]) keep a match from starting or ending inside a longer number or code.
_ID_CARD = re.compile(r"(?<![\dA-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![\dA-Za-z])")
_BANK_CARD = re.compile(r"(?<![\dA-Za-z])(\d{4}(?:[ -]?\d){12,15})(?![\dA-Za-z])")
_MOBILE = re.compile(r"(?<![\dA-Za-z])((?:\+?86[ -]?)?1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?![\dA-Za-z])")
_LANDLINE = re.compile(r"(?<![\dA-Za-z])(0\d{2,3})([ -]?)(\d{7,8})(?![\dA-Za-z])")


def _mask_id_card(match: re.Match[str]) -> str:
    return f"{match[1][:3]}{'*' * 11}{match[3]}"


def _mask_bank_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match[1])
    return f"{'*' * (len(digits) - 4)}{digits[-4:]}"


def _mask_mobile(match: re.Match[str]) -> str:
    return f"{match[1]}****{match[3]}"


def _mask_landline(match: re.Match[str]) -> str:
    number = match[3]
    return f"{match[1]}{match[2]}{'*' * (len(number) - 4)}{number[-4:]}"


_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９Ｘｘ－＋", "0123456789Xx-+")


def mask_personal_data(text: str) -> str:
    """Replace phone numbers (138****5678), 18-digit ID-card and 16–19 digit bank-card numbers with masks."""
    if not text:
        return text
    text = text.translate(_FULL_WIDTH_DIGITS)  # citizens often type numbers with a Chinese IME
    text = _ID_CARD.sub(_mask_id_card, text)
    text = _BANK_CARD.sub(_mask_bank_card, text)
    text = _MOBILE.sub(_mask_mobile, text)
    return _LANDLINE.sub(_mask_landline, text)


def mask_phone(phone: str) -> str:
    """A phone number as it may be shown back to the user or logged."""
    return mask_personal_data(phone)
