"""Everything a person can ask a room to do, and the role each command needs.

Commands arrive as JSON from hostile clients; this is the one place they are parsed and bounded.
Raw strings get a generous length cap here, and the exact limits (after cleaning) are enforced
by the transitions that use them.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .errors import InvalidInput
from .polls import PollKind, ResultsVisibility
from .questions import Question
from .roles import Role
from .room import ModerationMode, ScreenScene

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
RawText = Annotated[str, Field(max_length=4000)]


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    required_role: ClassVar[Role] = Role.MODERATOR


class AskQuestion(_Command):
    required_role: ClassVar[Role] = Role.VIEWER
    type: Literal["ask_question"] = "ask_question"
    text: RawText
    anonymous: bool = False


class EditMyQuestion(_Command):
    """The asker rewrites their own question while it awaits moderation (question_rules)."""

    required_role: ClassVar[Role] = Role.VIEWER
    type: Literal["edit_my_question"] = "edit_my_question"
    question_id: Identifier
    text: RawText


class WithdrawQuestion(_Command):
    """The asker takes back their own question while it awaits moderation: no one will see it."""

    required_role: ClassVar[Role] = Role.VIEWER
    type: Literal["withdraw_question"] = "withdraw_question"
    question_id: Identifier


class Upvote(_Command):
    """Set (not toggle) the vote, so a retried message cannot flip it back."""

    required_role: ClassVar[Role] = Role.VIEWER
    type: Literal["upvote"] = "upvote"
    question_id: Identifier
    voted: bool = True


class VotePoll(_Command):
    required_role: ClassVar[Role] = Role.VIEWER
    type: Literal["vote_poll"] = "vote_poll"
    poll_id: Identifier
    choices: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=12)]


class ModerateQuestion(_Command):
    """approve, dismiss, restore, mark_answered: the status transitions in questions.TRANSITIONS."""

    type: Literal["moderate_question"] = "moderate_question"
    question_id: Identifier
    action: Literal["approve", "dismiss", "restore", "mark_answered"]


class ModerateQuestions(_Command):
    """Approve or dismiss many at once; questions already past that step are left as they are."""

    type: Literal["moderate_questions"] = "moderate_questions"
    question_ids: Annotated[list[Identifier], Field(min_length=1, max_length=200)]
    action: Literal["approve", "dismiss"]


class MergeQuestions(_Command):
    """Fold near-duplicates into one question: votes combine, the askers are kept on it."""

    type: Literal["merge_questions"] = "merge_questions"
    question_id: Identifier
    duplicate_ids: Annotated[list[Identifier], Field(min_length=1, max_length=50)]


class MoveQuestion(_Command):
    """Hand a question to another room (the service also runs ReceiveQuestion there)."""

    type: Literal["move_question"] = "move_question"
    question_id: Identifier
    to_room: Identifier


class ReceiveQuestion(_Command):
    """The arriving half of a move. Built by the service, never parsed from a client."""

    type: Literal["receive_question"] = "receive_question"
    question: Question
    voters: tuple[str, ...]
    from_room: str


class HighlightQuestion(_Command):
    """Put a question on screen as "now answering"; None clears it."""

    type: Literal["highlight_question"] = "highlight_question"
    question_id: Identifier | None


class EditQuestion(_Command):
    type: Literal["edit_question"] = "edit_question"
    question_id: Identifier
    text: RawText


class StarQuestion(_Command):
    type: Literal["star_question"] = "star_question"
    question_id: Identifier
    starred: bool


class ReplyToQuestion(_Command):
    type: Literal["reply_to_question"] = "reply_to_question"
    question_id: Identifier
    reply: RawText | None


class LabelQuestion(_Command):
    type: Literal["label_question"] = "label_question"
    question_id: Identifier
    labels: Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=10)]


class SetModeration(_Command):
    type: Literal["set_moderation"] = "set_moderation"
    mode: ModerationMode


class CreatePoll(_Command):
    type: Literal["create_poll"] = "create_poll"
    kind: PollKind
    question: RawText
    options: Annotated[list[Annotated[str, Field(max_length=400)]], Field(max_length=20)] = []
    correct: Annotated[list[Annotated[str, Field(max_length=400)]], Field(max_length=1)] = []  # quiz only
    series: Annotated[str, Field(max_length=200)] = ""  # quiz only: the series it scores in (quiz.py)
    visibility: ResultsVisibility = ResultsVisibility.LIVE


class PreparePoll(CreatePoll):
    """A poll planned in the event file, created once as a draft. Built by the service at start;
    never parsed from a client. ``planned_id`` makes it happen once, even with many processes."""

    type: Literal["prepare_poll"] = "prepare_poll"  # type: ignore[assignment]
    planned_id: str


class ModerateAnswer(_Command):
    """Approve or dismiss an open-text answer: only approved answers are shown and counted."""

    type: Literal["moderate_answer"] = "moderate_answer"
    poll_id: Identifier
    participant_id: Identifier
    action: Literal["approve", "dismiss"]


class ModerateWord(_Command):
    """Allow a word-cloud word the word filter held, or reject any word: a rejected word leaves
    the cloud, and later ballots with it do not count it either."""

    type: Literal["moderate_word"] = "moderate_word"
    poll_id: Identifier
    word: Annotated[str, Field(max_length=200)]
    action: Literal["allow", "reject"]


class SetScreenScene(_Command):
    type: Literal["set_screen_scene"] = "set_screen_scene"
    scene: ScreenScene


class SetPresenterNote(_Command):
    """A private line for the speaker's presenter view; None (or blank text) clears it."""

    type: Literal["set_presenter_note"] = "set_presenter_note"
    text: RawText | None


class ChangePoll(_Command):
    type: Literal["change_poll"] = "change_poll"
    poll_id: Identifier
    action: Literal["open", "close", "reveal", "delete"]


Command = Annotated[
    AskQuestion
    | EditMyQuestion
    | WithdrawQuestion
    | Upvote
    | VotePoll
    | ModerateQuestion
    | ModerateQuestions
    | MergeQuestions
    | MoveQuestion
    | HighlightQuestion
    | EditQuestion
    | StarQuestion
    | ReplyToQuestion
    | LabelQuestion
    | SetModeration
    | CreatePoll
    | ChangePoll
    | ModerateAnswer
    | ModerateWord
    | SetScreenScene
    | SetPresenterNote,
    Field(discriminator="type"),
]
COMMAND_ADAPTER: TypeAdapter[Command] = TypeAdapter(Command)


def parse_command(data: object) -> Command:
    """Turn untrusted JSON into a command, or refuse it with a message naming the bad field."""
    try:
        return COMMAND_ADAPTER.validate_python(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "command"
        if first["type"] == "union_tag_invalid":
            raise InvalidInput(f"unknown command type {first['input'].get('type')!r}") from None
        if first["type"] == "union_tag_not_found":
            raise InvalidInput("the command has no 'type'") from None
        raise InvalidInput(f"{where}: {first['msg']}") from None
