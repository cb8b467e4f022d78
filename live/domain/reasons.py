"""Why a person's command was refused, in words the pages translate: the one home of each message.

A refusal made from one of these (``InvalidInput(reasons.POLL_OPTIONS, max=12)``) sends the
template as ``reason`` and its values as ``params`` beside the English ``message``; the pages
look the template up in the catalogue (live/locale, served with the page's script messages) and
fill in the values, themselves translated when they are words (``field``). Refusals only scripts
meet (a malformed command) keep plain English messages.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a message for ``pybabel extract -k N_`` (babel.cfg): translated in the browser."""
    return message


# poll questions and options, as a moderator types them
POLL_OPTIONS = N_("a choice poll needs 2 to {max} options")
SAME_OPTIONS = N_("two options are the same")
CORRECT_ONLY_IN_QUIZ = N_("only a quiz has a correct answer")
QUIZ_CORRECT = N_("a quiz needs exactly one correct answer, one of its options")
REVEAL_BEFORE_OPEN = N_("open the poll before revealing its results")
SERIES_ONLY_IN_QUIZ = N_("only a quiz belongs to a series")
# ballots, as a viewer votes
ONE_ANSWER = N_("send one answer")
WORD_COUNT = N_("enter 1 to {max} words")
WORD_TOO_LONG = N_("a word is longer than {max} characters")
NOT_AN_OPTION = N_("that option is not in this poll")
AT_LEAST_ONE = N_("pick at least one option")
EXACTLY_ONE = N_("pick exactly one option")
POLL_CLOSED = N_("the poll is closed")
QUIZ_REVEALED = N_("the answer is out: this quiz takes no more answers")
RANK_EVERY_OPTION = N_("put every option in order, each once")
# questions and names
NAME_REQUIRED = N_("this room asks for your name with each question")
NAME_NOT_ALLOWED = N_("your name has a word this room does not allow: change it, or ask anonymously")
NOT_YOUR_QUESTION = N_("only the person who asked a question can change or withdraw it")
NO_LONGER_PENDING = N_("a moderator has already dealt with this question: it can no longer be changed")
QUESTION_GONE = N_("this question has left the room (withdrawn, merged or moved): it can no longer be changed")
# any text field: {field} is one of FIELDS
EMPTY = N_("{field} is empty")
TOO_LONG = N_("{field} is longer than {max} characters")
FIELDS = (
    N_("question"),
    N_("poll question"),
    N_("option"),
    N_("answer"),
    N_("reply"),
    N_("label"),
    N_("name"),
    N_("series"),
)

TEMPLATES = frozenset(
    {
        POLL_OPTIONS, SAME_OPTIONS, CORRECT_ONLY_IN_QUIZ, QUIZ_CORRECT, REVEAL_BEFORE_OPEN, ONE_ANSWER,
        WORD_COUNT, WORD_TOO_LONG, NOT_AN_OPTION, AT_LEAST_ONE, EXACTLY_ONE, POLL_CLOSED, QUIZ_REVEALED, NAME_REQUIRED,
        NAME_NOT_ALLOWED, NOT_YOUR_QUESTION, NO_LONGER_PENDING, EMPTY, TOO_LONG, SERIES_ONLY_IN_QUIZ,
        RANK_EVERY_OPTION,
    }
)  # fmt: skip
EVERY_MESSAGE = (*sorted(TEMPLATES), *FIELDS)  # what the pages receive translated
