"""Cleaning what people type: the same rules for questions, replies, names and poll words."""

from __future__ import annotations

import re
import unicodedata

from . import reasons
from .errors import InvalidInput

# Control characters, zero-width spaces, the bidi embedding/override/isolate controls and lone
# surrogates (JSON's "\ud800" escape makes one; no UTF-8 encoder takes it). Joiners (U+200C,
# U+200D) and direction marks stay: emoji sequences and some scripts need them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
_SPACES = re.compile(r"[ \t\u3000\u00a0]+")

# Unicode's Default_Ignorable_Code_Point set (DerivedCoreProperties.txt): characters that draw as
# nothing. With the format characters (category Cf) they are what can sit inside a word unseen:
# U+00AD soft hyphen, U+034F combining grapheme joiner, U+061C Arabic letter mark, U+115F/U+1160
# and U+3164/U+FFA0 Hangul fillers, U+17B4/U+17B5 Khmer inherent vowels, U+180B-U+180F Mongolian
# selectors and vowel separator, U+200B-U+200F zero-width space, ZWNJ, ZWJ and the direction
# marks, U+202A-U+202E bidi controls, U+2060-U+206F word joiner, invisible operators and
# isolates, U+FE00-U+FE0F variation selectors, U+FEFF, U+FFF0-U+FFF8, U+1BCA0-U+1BCA3 shorthand
# controls, U+1D173-U+1D17A musical controls, U+E0000-U+E0FFF tags and selectors.
_IGNORABLE_RANGES = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff"
)
_DEFAULT_IGNORABLE = re.compile(f"[{_IGNORABLE_RANGES}]")
# What a shown word may need although it draws nothing of its own: ZWNJ and ZWJ (emoji sequences,
# Persian and Indic words), variation selectors (emoji or text style, CJK variants) and the tag
# characters of subdivision flags (the flag of Scotland is a tag sequence).
_SHAPING = re.compile("[\u200c\u200d\ufe00-\ufe0f\U000e0020-\U000e007f\U000e0100-\U000e01ef]")


def strip_invisible(text: str, *, keep_shaping: bool = False) -> str:
    """``text`` without the characters that draw as nothing: the default-ignorable code points
    and every format character (category Cf, which also has the Arabic number signs and
    interlinear annotation marks). ``keep_shaping``: joiners, variation selectors and emoji tags
    stay, for text that is shown rather than only compared."""
    if text.isascii():
        return text  # the common case: ASCII has neither

    def dropped(ch: str) -> bool:
        if keep_shaping and _SHAPING.match(ch):
            return False
        return _DEFAULT_IGNORABLE.match(ch) is not None or unicodedata.category(ch) == "Cf"

    return "".join(ch for ch in text if not dropped(ch))


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
        raise InvalidInput(reasons.EMPTY, field=field)
    if len(text) > max_length:
        raise InvalidInput(reasons.TOO_LONG, field=field, max=max_length)
    return text


def normalise_word(value: str) -> str:
    """Fold width, case and spacing so 'Ｈｙｄｒｏｇｅｎ', 'hydrogen ' and 'HYDROGEN' count together,
    and drop what draws as nothing (a soft hyphen inside 'hydrogen' is not a new word). Joiners and variation
    selectors stay: a word cloud may hold an emoji sequence or a Persian word, which need them."""
    folded = strip_invisible(unicodedata.normalize("NFKC", value), keep_shaping=True).casefold()
    return _SPACES.sub(" ", _CONTROL.sub("", folded)).strip()
