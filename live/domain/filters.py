"""Guarding a room's queue: a word filter that holds questions for a moderator, and a measure of
how alike two questions are so near-duplicates can be flagged. Both work for Chinese (no spaces
between words) as well as English, and compare text in one folded form
(``fold_for_matching``) so invisible characters and lookalike letters hide nothing."""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from .text import strip_invisible

_NOT_TEXT = re.compile(r"[\W_]+", re.UNICODE)
_LATIN_WORD = re.compile(r"^[a-z0-9' -]+$")

DUPLICATE_THRESHOLD = 0.6  # Dice similarity of character bigrams above which a question is flagged
DUPLICATE_WINDOW = 500  # how many recent questions a new one is compared with
SIMILARITY_PREFIX = 200  # characters compared: enough to tell questions apart, bounded in cost


# Letters of other scripts that draw like a Latin letter, folded to it before matching, so a
# Cyrillic "с" in "spam" is "spam" to the filter. A small explicit table taken from Unicode's
# confusables.txt (the Cyrillic and Greek letters whose prototype is a Latin letter), by case:
# capitals fold to the capital they look like (Greek "Ν" is "N"), small letters to the small
# letter ("ν" is "v"), and casefolding follows. Full-width and other compatibility forms need no
# table: NFKC folds them ("ｓｐａｍ" is "spam"). Chinese, Japanese and Korean text is untouched.
CONFUSABLES = str.maketrans(
    {
        # Cyrillic capitals
        "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
        "Т": "T", "Х": "X", "Ѕ": "S", "І": "I", "Ј": "J", "Ү": "Y", "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I",
        # Cyrillic small letters
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "ѕ": "s", "і": "i",
        "ј": "j", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ү": "y",
        # Greek capitals
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
        "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
        # Greek small letters
        "α": "a", "ι": "i", "ν": "v", "ο": "o", "ρ": "p", "υ": "u", "γ": "y",
        # Latin letters that look like other Latin letters
        "ı": "i", "ɑ": "a", "ɡ": "g", "ɩ": "i",
    }
)  # fmt: skip


def fold_for_matching(text: str) -> str:
    """The form in which text is compared, never shown: NFKC (width and compatibility forms),
    without the characters that draw as nothing (default-ignorable and format characters: soft
    hyphen, ZWJ/ZWNJ, word joiner, U+034F, LRM, U+2062, U+180E, ...), confusable letters folded to
    the Latin letter they look like, case-folded. The stored text keeps all of it, emoji
    sequences included; only the filter and the duplicate check read this form."""
    text = strip_invisible(unicodedata.normalize("NFKC", strip_invisible(text)))
    return text.translate(CONFUSABLES).casefold()


def _latin(letter: str) -> bool:
    return letter.isascii() or unicodedata.name(letter, "").startswith("LATIN ")


def as_latin_lookalike(word: str) -> str:
    """A word-cloud word as the Latin word it draws as, when every letter of it is Latin or looks
    Latin ("ѕpam" with a Cyrillic "ѕ" is "spam"), so disguises count as one word and a moderator
    decides on it once; any other word is unchanged (Russian and Chinese words stay themselves).
    ``word`` is already case-folded."""
    folded = word.translate(CONFUSABLES).casefold()
    if folded == word or not all(_latin(ch) for ch in folded if ch.isalpha()):
        return word
    return folded


@dataclass(frozen=True)
class WordFilter:
    """Latin words match whole words ("ass" does not catch "class"); Chinese terms match anywhere."""

    words: tuple[str, ...] = ()
    _pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, words: Iterable[str]) -> WordFilter:
        """Each word is folded as it is and in capitals and small letters: a word the organiser
        typed in Greek or Cyrillic folds by case ("ΝΑΙ" is "nai", "ναι" is "vai")."""
        forms = (fold_for_matching(form).strip() for word in words for form in (word, word.lower(), word.upper()))
        folded = tuple(dict.fromkeys(w for w in forms if w))
        parts = [rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])" if _LATIN_WORD.match(w) else re.escape(w) for w in folded]
        return cls(folded, re.compile("|".join(parts)) if parts else None)

    def matches(self, text: str) -> bool:
        return self._pattern is not None and self._pattern.search(fold_for_matching(text)) is not None


@lru_cache(maxsize=4096)
def _bigrams(text: str) -> frozenset[str]:
    """Cached: a new question is compared with hundreds of recent ones, each time. Interned: the
    same bigram is one string object in every set, so an intersection matches it by identity
    rather than by reading both strings, and the cached sets share their strings."""
    compact = _NOT_TEXT.sub("", fold_for_matching(text))[:SIMILARITY_PREFIX]
    if len(compact) < 2:
        return frozenset({compact} if compact else ())
    return frozenset(sys.intern(compact[i : i + 2]) for i in range(len(compact) - 1))


def similarity(first: str, second: str) -> float:
    """Dice coefficient of character bigrams: 1.0 for the same words, near 0 for unrelated ones."""
    a, b = _bigrams(first), _bigrams(second)
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def most_similar(text: str, candidates: Iterable[tuple[str, str]]) -> str | None:
    """The id of the candidate (id, text) most like ``text``, if it is alike enough."""
    best_id, best = None, DUPLICATE_THRESHOLD
    for candidate_id, candidate_text in candidates:
        score = similarity(text, candidate_text)
        if score >= best:
            best_id, best = candidate_id, score
    return best_id


@dataclass(frozen=True)
class RoomPolicy:
    """What the organiser configured for a room and the rules apply: not state, not commands."""

    word_filter: WordFilter = field(default_factory=WordFilter)
