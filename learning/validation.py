"""Small input checks shared by views (pure)."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]+")


def is_digits(text: str) -> bool:
    """True for ASCII digits only ("²" or "٣" pass str.isdigit() but not int())."""
    return bool(_DIGITS.fullmatch(text))
