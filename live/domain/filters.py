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


class BigramBits:
    """A room's recent questions' bigrams as bits of one int per text, so that the bigrams two
    texts share are ``(a & b).bit_count()``: the same count as the sets' intersection, in a few
    hundred bytes read in order rather than a set probed 60 times. Each question asked is compared
    with DUPLICATE_WINDOW recent ones; with sets, against 500 alike ones, that cost about 2 ms per
    question in a server among a thousand connections (docs/CAPACITY.md).

    Each bigram seen gets the next bit, so the ints grow with the room's vocabulary, and a long
    event in Chinese sees tens of thousands of bigrams: once the vocabulary is twice what the
    last rebuild needed, it is dropped and rebuilt from the texts compared next (only between two
    comparisons, so that all the ints of one agree). Per room: rooms' windows differ."""

    REBUILD_FLOOR = 4096  # bigrams: below this the vocabulary is never rebuilt
    TEXTS_KEPT = 2 * DUPLICATE_WINDOW  # then rebuilt too: at most ~4 MB a room with 30,000 bigrams

    def __init__(self) -> None:
        self._bit_of: dict[str, int] = {}
        self._texts: dict[str, tuple[int, int]] = {}  # text -> (its bits, how many)
        self._needed = 0  # the vocabulary's size after the last rebuild's first comparison

    def of(self, text: str) -> tuple[int, int]:
        found = self._texts.get(text)
        if found is None:
            bits = [self._bit(bigram) for bigram in _bigrams(text)]
            field = bytearray(max(bits) // 8 + 1 if bits else 0)
            for bit in bits:
                field[bit >> 3] |= 1 << (bit & 7)
            found = self._texts[text] = (int.from_bytes(field, "little"), len(bits))
        return found

    def _bit(self, bigram: str) -> int:
        bit = self._bit_of.get(bigram)
        if bit is None:
            bit = self._bit_of[bigram] = len(self._bit_of)
        return bit

    def rebuild_if_sparse(self) -> None:
        """Called before a comparison, never during one."""
        grown = len(self._bit_of) > max(self.REBUILD_FLOOR, 2 * self._needed)
        if grown or len(self._texts) > self.TEXTS_KEPT:
            self._bit_of.clear()
            self._texts.clear()
            self._needed = 0

    def compared(self) -> None:
        if not self._needed:
            self._needed = len(self._bit_of)


_bits_by_room: dict[str, BigramBits] = {}


def most_similar(text: str, candidates: Iterable[tuple[str, str]], room: str = "") -> str | None:
    """The id of the candidate (id, text) most like ``text`` by ``similarity``, if it is alike
    enough: the same scores, counted on the room's ``BigramBits``."""
    bits = _bits_by_room.get(room)
    if bits is None:
        bits = _bits_by_room[room] = BigramBits()
    bits.rebuild_if_sparse()
    mine, size = bits.of(text)
    best_id, best = None, DUPLICATE_THRESHOLD
    if size:
        for candidate_id, candidate_text in candidates:
            theirs, their_size = bits.of(candidate_text)
            if their_size:
                score = 2 * (mine & theirs).bit_count() / (size + their_size)
                if score >= best:
                    best_id, best = candidate_id, score
    bits.compared()
    return best_id


@dataclass(frozen=True)
class RoomPolicy:
    """What the organiser configured for a room and the rules apply: not state, not commands."""

    word_filter: WordFilter = field(default_factory=WordFilter)
