"""Cleaning what people type: the same rules for questions, replies, names and poll words."""

from __future__ import annotations

import re
import unicodedata

from .errors import InvalidInput

# Control characters, zero-width spaces, the bidi embedding/override/isolate controls and lone
# surrogates (JSON's "\ud800" escape makes one; no UTF-8 encoder takes it). Joiners (U+200C,
# U+200D) and direction marks stay: emoji sequences and some scripts need them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
_SPACES = re.compile(r"[ \t\u3000\u00a0]+")


def clean_text(value: str, *, field: str, max_length: int, multiline: bool = True) -> str:
    """Strip invisible control characters and outer space; refuse empty or oversized text.

    Bidi overrides are removed so a viewer cannot flip the direction of text around theirs;
    right-to-left scripts themselves are kept.
    """
    text = _CONTROL.sub("", unicodedata.normalize("NFC", value))
    if not multiline:
        text = text.replace("\n", " ")
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.replace("\r", "").split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if not text:
        raise InvalidInput(f"{field} is empty")
    if len(text) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters")
    return text


def normalise_word(value: str) -> str:
    """Fold width, case and spacing so 'Ｈｙｄｒｏｇｅｎ', 'hydrogen ' and 'HYDROGEN' count together."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    return _SPACES.sub(" ", _CONTROL.sub("", folded)).strip()
