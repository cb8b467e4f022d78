"""Guarding a room's queue: a word filter that holds questions for a moderator, and a measure of
how alike two questions are so near-duplicates can be flagged. Both work for Chinese (no spaces
between words) as well as English."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

_NOT_TEXT = re.compile(r"[\W_]+", re.UNICODE)
_LATIN_WORD = re.compile(r"^[a-z0-9' -]+$")

DUPLICATE_THRESHOLD = 0.6  # Dice similarity of character bigrams above which a question is flagged
DUPLICATE_WINDOW = 500  # how many recent questions a new one is compared with
SIMILARITY_PREFIX = 200  # characters compared: enough to tell questions apart, bounded in cost


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass(frozen=True)
class WordFilter:
    """Latin words match whole words ("ass" does not catch "class"); Chinese terms match anywhere."""

    words: tuple[str, ...] = ()
    _pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, words: Iterable[str]) -> WordFilter:
        folded = tuple(dict.fromkeys(w for w in (_fold(word).strip() for word in words) if w))
        parts = [rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])" if _LATIN_WORD.match(w) else re.escape(w) for w in folded]
        return cls(folded, re.compile("|".join(parts)) if parts else None)

    def matches(self, text: str) -> bool:
        return self._pattern is not None and self._pattern.search(_fold(text)) is not None


@lru_cache(maxsize=4096)
def _bigrams(text: str) -> frozenset[str]:
    """Cached: a new question is compared with hundreds of recent ones, each time."""
    compact = _NOT_TEXT.sub("", _fold(text))[:SIMILARITY_PREFIX]
    if len(compact) < 2:
        return frozenset({compact} if compact else ())
    return frozenset(compact[i : i + 2] for i in range(len(compact) - 1))


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
