"""Identifiers of Chinese organisations that several services check. Pure."""

from __future__ import annotations

import re

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""GB 32100-2015's 31 characters: the digits and the capitals without I, O, S, V, Z."""
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT = re.compile(rf"[{CREDIT_CODE_ALPHABET}]{{18}}")


def credit_code_valid(code: str) -> bool:
    """Whether ``code`` is a unified social credit code (GB 32100-2015) whose 18th character is
    the check character of the first seventeen."""
    if not _CREDIT.fullmatch(code):
        return False
    total = sum(CREDIT_CODE_ALPHABET.index(char) * weight for char, weight in zip(code, _CREDIT_WEIGHTS, strict=False))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31] == code[17]
