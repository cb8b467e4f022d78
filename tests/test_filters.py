"""The word filter sees words as a reader does: characters that draw as nothing, letters of other
scripts that look Latin and full-width forms do not hide a blocked word, and no folding breaks
Chinese or the emoji a question shows."""

from __future__ import annotations

from random import Random
from typing import Any

import pytest

from live.domain.commands import parse_command
from live.domain.decide import Context, apply
from live.domain.errors import InvalidInput
from live.domain.filters import (
    DUPLICATE_THRESHOLD,
    BigramBits,
    RoomPolicy,
    WordFilter,
    _bigrams,
    fold_for_matching,
    most_similar,
    similarity,
)
from live.domain.roles import Actor
from live.domain.room import ModerationMode, RoomSettings, RoomState
from live.domain.text import normalise_word, strip_invisible

FILTER = WordFilter.of(["spam", "代开发票", "scam"])

# Each of these draws as nothing, inside a word (the list, and more of the same set).
INVISIBLE = {
    "soft hyphen": "\u00ad",
    "zero-width joiner": "\u200d",
    "zero-width non-joiner": "\u200c",
    "zero-width space": "\u200b",
    "word joiner": "\u2060",
    "combining grapheme joiner": "\u034f",
    "left-to-right mark": "\u200e",
    "right-to-left mark": "\u200f",
    "invisible times": "\u2062",
    "Mongolian vowel separator": "\u180e",
    "Arabic letter mark": "\u061c",
    "variation selector 16": "\ufe0f",
    "tag space": "\U000e0020",
    "Hangul filler": "\u3164",
    "byte order mark": "\ufeff",
}


@pytest.mark.parametrize("invisible", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_a_blocked_word_with_an_invisible_character_inside_is_caught(invisible: str) -> None:
    assert FILTER.matches(f"Buy sp{invisible}am today")
    assert FILTER.matches(f"专业代开{invisible}发票")


@pytest.mark.parametrize(
    "disguised",
    [
        "s\u0441am",  # Cyrillic small es
        "sp\u0430m",  # Cyrillic small a
        "\u0405PAM",  # Cyrillic capital dze
        "SP\u0391M",  # Greek capital alpha
        "sc\u03b1m",  # Greek small alpha
        "ｓｐａｍ",  # full width, folded by NFKC
        "ＳＣＡＭ",
        "s\u00adc\u0430\u200dm",  # several tricks at once
    ],
)
def test_lookalike_letters_and_full_width_forms_are_caught(disguised: str) -> None:
    assert FILTER.matches(f"that is {disguised}!")


@pytest.mark.parametrize(
    "innocent",
    ["a spammer?", "scampi for lunch", "класс", "氢能储能的成本何时下降？", "Emoji 👩\u200d🔬 and 🏳\ufe0f\u200d🌈"],
)
def test_folding_does_not_make_innocent_text_match(innocent: str) -> None:
    assert not FILTER.matches(innocent)


def test_a_word_the_organiser_typed_in_greek_is_caught_in_either_case() -> None:
    greek = WordFilter.of(["ναι"])
    assert greek.matches("ΝΑΙ") and greek.matches("ναι") and greek.matches("Ναι")


def test_matching_folds_a_copy_and_the_stored_text_keeps_its_emoji() -> None:
    scientist = "👩\u200d🔬"
    assert fold_for_matching(f"SP\u00adAM {scientist}") == "spam 👩🔬"  # only for comparing
    assert strip_invisible(scientist, keep_shaping=True) == scientist
    assert normalise_word(f"hydro\u00adgen {scientist}") == f"hydrogen {scientist}"


def ask(text: str, *, name: str | None = None, anonymous: bool = False) -> Any:
    state = RoomState("main", RoomSettings(moderation=ModerationMode.POST))
    command = parse_command({"type": "ask_question", "text": text, "anonymous": anonymous})
    (event,) = apply(state, command, Context(Actor("ann", name), 1.0, "q1", RoomPolicy(word_filter=FILTER)))
    return event.question


def test_a_question_with_a_hidden_blocked_word_is_held_for_the_moderator() -> None:
    held = ask("Cheap sp\u2060am here")
    assert held.status == "pending" and held.flags == ("word_filter",)
    assert held.text == "Cheap sp\u2060am here"  # stored as typed: the moderator sees what was sent
    assert ask("A fair question").status == "live"


def test_a_question_under_a_blocked_name_is_refused_and_can_be_asked_anonymously() -> None:
    with pytest.raises(InvalidInput, match="name"):
        ask("A fair question", name="\u0405pam King")  # a Cyrillic dze
    assert ask("A fair question", name="\u0405pam King", anonymous=True).author_name is None
    assert ask("A fair question", name="Ann").author_name == "Ann"


def test_questions_share_their_bigrams_strings() -> None:
    """The duplicate check intersects a new question's bigrams with those of 500 recent ones:
    the same bigram is the same string object in each (matched by identity, stored once)."""
    first = _bigrams("How fast can hydrogen trucks scale? 氢能重卡")
    second = _bigrams("How soon can hydrogen trucks scale up? 氢能重卡")
    shared = first & second
    assert {"hy", "氢能"} <= shared
    in_first, in_second = {b: b for b in first}, {b: b for b in second}
    assert all(in_first[bigram] is in_second[bigram] for bigram in shared)


def reference_most_similar(text: str, candidates: list[tuple[str, str]]) -> str | None:
    """most_similar's meaning, on the sets: the last candidate with the best score at or above
    the threshold."""
    best_id, best = None, DUPLICATE_THRESHOLD
    for candidate_id, candidate_text in candidates:
        score = similarity(text, candidate_text)
        if score >= best:
            best_id, best = candidate_id, score
    return best_id


@pytest.mark.parametrize("floor", [4096, 8])  # 8: the bits are rebuilt every few questions
def test_the_duplicate_check_on_bits_finds_what_the_sets_find(monkeypatch: pytest.MonkeyPatch, floor: int) -> None:
    monkeypatch.setattr(BigramBits, "REBUILD_FLOOR", floor)
    monkeypatch.setattr(BigramBits, "TEXTS_KEPT", 60)
    random = Random(7)
    pieces = ["hydrogen", "trucks", "battery", "cost", "when", "how", "氢能", "重卡", "电池", "成本", "何时", "?", "！"]
    asked = ["".join(random.choice(pieces) + random.choice(["", " "]) for _ in range(random.randint(1, 8)))
             for _ in range(400)]  # fmt: skip
    asked += [text + "!" for text in asked[:50]]  # near-duplicates
    found = 0
    for n in range(20, len(asked)):
        window = [(str(i), asked[i]) for i in range(max(0, n - 40), n)]
        expected = reference_most_similar(asked[n], window)
        assert most_similar(asked[n], window, f"room-{floor}") == expected, asked[n]
        found += expected is not None
    assert found > 100  # the texts were alike often enough to test the scores, not only "none"
