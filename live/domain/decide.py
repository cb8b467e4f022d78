"""Commands become events: the room's rules, as pure functions of (state, command, context).

``decide`` reads the state and never changes it; ``evolve`` applies events. ``apply`` does both,
which is what an engine runs. No clock, no randomness: the context brings ``now`` and new ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import commands as c
from .errors import Conflict, InvalidInput, NotAllowed, NotFound
from .events import (
    AnswerModerated,
    Event,
    PollChanged,
    PollDeleted,
    PollVoted,
    QuestionChanged,
    QuestionVoted,
    SettingsChanged,
)
from .evolve import evolve
from .filters import DUPLICATE_WINDOW, RoomPolicy, most_similar
from .polls import (
    MAX_POLL_QUESTION_LENGTH,
    Poll,
    PollKind,
    PollStatus,
    clean_choices,
    clean_correct,
    clean_options,
)
from .polls import tally as poll_tally
from .questions import (
    ARCHIVED,
    MAX_LABEL_LENGTH,
    MAX_LABELS,
    MAX_QUESTION_LENGTH,
    MAX_REPLY_LENGTH,
    TRANSITIONS,
    MergedAsk,
    Question,
    QuestionStatus,
)
from .roles import Actor
from .room import ModerationMode, RoomState
from .text import clean_text

PAST_TENSE = {
    "approve": "approved",
    "dismiss": "dismissed",
    "restore": "restored",
    "mark_answered": "answered",
}


@dataclass(frozen=True)
class Context:
    actor: Actor
    now: float
    new_id: str  # an id the engine generated, used if the command creates something
    policy: RoomPolicy = field(default_factory=RoomPolicy)  # the organiser's rules for the room


AnyCommand = c.Command | c.ReceiveQuestion | c.PreparePoll


def apply(state: RoomState, command: AnyCommand, context: Context) -> list[Event]:
    """Check, decide and apply one command; the state is unchanged if it is refused."""
    events = decide(state, command, context)
    for event in events:
        evolve(state, event)
    return events


def decide(state: RoomState, command: AnyCommand, context: Context) -> list[Event]:
    if not context.actor.has(command.required_role, state.room_id):
        raise NotAllowed(f"{command.type} needs the {command.required_role.value} role in this room")
    handler = _HANDLERS[type(command)]
    return handler(state, command, context)


def _question(state: RoomState, question_id: str, *, public_only: bool = False) -> Question:
    question = state.questions.get(question_id)
    if question is None or (public_only and not question.status.is_public):
        raise NotFound("no such question in this room")
    return question


def _changed(before: Question, after: Question, action: str, context: Context) -> QuestionChanged:
    return QuestionChanged(
        question=after,
        action=action,
        was_public=before.status.is_public,
        by=context.actor.participant_id,
        previous_status=before.status,
    )


def ask_question(state: RoomState, command: c.AskQuestion, context: Context) -> list[Event]:
    text = clean_text(command.text, field="question", max_length=MAX_QUESTION_LENGTH)
    name = None if command.anonymous else context.actor.display_name
    if state.settings.require_name and not name:
        raise InvalidInput("this room asks for your name with each question")
    held = context.policy.word_filter.matches(text)  # held for a moderator even in post-moderation
    public_at_once = state.settings.moderation is ModerationMode.POST and not held
    recent = list(state.questions.values())[-DUPLICATE_WINDOW:]
    question = Question(
        id=context.new_id,
        text=text,
        author_id=context.actor.participant_id,
        author_name=name,
        status=QuestionStatus.LIVE if public_at_once else QuestionStatus.PENDING,
        flags=("word_filter",) if held else (),
        duplicate_of=most_similar(text, ((q.id, q.text) for q in recent if q.status not in ARCHIVED)),
        asked_at=context.now,
    )
    return [QuestionChanged(question=question, action="asked", was_public=False, by=None)]


def upvote(state: RoomState, command: c.Upvote, context: Context) -> list[Event]:
    question = _question(state, command.question_id, public_only=True)
    voters = state.upvotes.get(question.id, set())
    who = context.actor.participant_id
    if (who in voters) == command.voted:
        return []  # already so: a repeated tap or a retry changes nothing
    votes = question.votes + (1 if command.voted else -1)
    return [
        QuestionVoted(
            question_id=question.id,
            participant_id=who,
            voted=command.voted,
            votes=votes,
        )
    ]


def moderate_question(state: RoomState, command: c.ModerateQuestion, context: Context) -> list[Event]:
    question = _question(state, command.question_id)
    allowed_from, target = TRANSITIONS[command.action]
    if question.status not in allowed_from:
        raise Conflict(f"cannot {command.action.replace('_', ' ')} a question that is {question.status.value}")
    answered_at = context.now if target is QuestionStatus.ANSWERED else question.answered_at
    after = question.model_copy(update={"status": target, "answered_at": answered_at})
    events: list[Event] = [_changed(question, after, PAST_TENSE[command.action], context)]
    if state.settings.answering_question_id == question.id and target is not QuestionStatus.LIVE:
        settings = state.settings.model_copy(update={"answering_question_id": None})
        events.append(
            SettingsChanged(
                settings=settings,
                action="highlight_cleared",
                by=context.actor.participant_id,
            )
        )
    return events


def moderate_questions(state: RoomState, command: c.ModerateQuestions, context: Context) -> list[Event]:
    allowed_from, target = TRANSITIONS[command.action]
    changes: list[QuestionChanged] = []
    for question_id in dict.fromkeys(command.question_ids):
        question = state.questions.get(question_id)
        if question is not None and question.status in allowed_from:
            after = question.model_copy(update={"status": target})
            changes.append(_changed(question, after, PAST_TENSE[command.action], context))
    if not changes:
        raise Conflict(f"none of the selected questions can be {PAST_TENSE[command.action]}")
    events: list[Event] = list(changes)
    answering = state.settings.answering_question_id
    if target is not QuestionStatus.LIVE and any(change.question.id == answering for change in changes):
        settings = state.settings.model_copy(update={"answering_question_id": None})
        events.append(SettingsChanged(settings=settings, action="highlight_cleared", by=context.actor.participant_id))
    return events


def merge_questions(state: RoomState, command: c.MergeQuestions, context: Context) -> list[Event]:
    kept = _question(state, command.question_id)
    if kept.status in ARCHIVED:
        raise Conflict(f"cannot merge into a question that is {kept.status.value}")
    duplicates = []
    for question_id in dict.fromkeys(command.duplicate_ids):
        if question_id == kept.id:
            raise InvalidInput("a question cannot be merged into itself")
        duplicate = _question(state, question_id)
        if duplicate.status in (QuestionStatus.MERGED, QuestionStatus.MOVED):
            raise Conflict(f"a selected question is already {duplicate.status.value}")
        duplicates.append(duplicate)
    voters = set(state.upvotes.get(kept.id, set()))
    askers = list(kept.merged_askers)
    events: list[Event] = []
    for duplicate in duplicates:
        voters |= state.upvotes.get(duplicate.id, set())
        askers.append(MergedAsk(question_id=duplicate.id, author_id=duplicate.author_id,
                                author_name=duplicate.author_name, text=duplicate.text))  # fmt: skip
        askers.extend(duplicate.merged_askers)
        merged = duplicate.model_copy(update={"status": QuestionStatus.MERGED, "merged_into": kept.id})
        events.append(_changed(duplicate, merged, "merged", context))
    after = kept.model_copy(update={"votes": len(voters), "merged_askers": tuple(askers)})
    by = context.actor.participant_id
    events.append(
        QuestionChanged(
            question=after, action="merged_into", was_public=kept.status.is_public, by=by, voters=tuple(sorted(voters))
        )
    )
    if state.settings.answering_question_id in {d.id for d in duplicates}:
        settings = state.settings.model_copy(update={"answering_question_id": None})
        events.append(SettingsChanged(settings=settings, action="highlight_cleared", by=by))
    return events


def move_question(state: RoomState, command: c.MoveQuestion, context: Context) -> list[Event]:
    question = _question(state, command.question_id)
    if command.to_room == state.room_id:
        raise InvalidInput("the question is already in this room")
    if question.status in (QuestionStatus.MERGED, QuestionStatus.MOVED):
        raise Conflict(f"cannot move a question that is {question.status.value}")
    if not context.actor.moderates(command.to_room):
        raise NotAllowed("moving a question needs the moderator role in both rooms")
    moved = question.model_copy(update={"status": QuestionStatus.MOVED, "moved_to": command.to_room})
    events: list[Event] = [_changed(question, moved, "moved", context)]
    if state.settings.answering_question_id == question.id:
        settings = state.settings.model_copy(update={"answering_question_id": None})
        events.append(SettingsChanged(settings=settings, action="highlight_cleared", by=context.actor.participant_id))
    return events


def receive_question(state: RoomState, command: c.ReceiveQuestion, context: Context) -> list[Event]:
    origin = command.question  # arrives as it was: pending, live, answered or dismissed
    arrived = origin.model_copy(
        update={"id": context.new_id, "votes": len(command.voters), "moved_to": None, "duplicate_of": None}
    )
    return [
        QuestionChanged(
            question=arrived,
            action="moved_in",
            was_public=False,
            by=context.actor.participant_id,
            voters=tuple(sorted(set(command.voters))),
        )
    ]


def highlight_question(state: RoomState, command: c.HighlightQuestion, context: Context) -> list[Event]:
    if command.question_id is not None:
        question = _question(state, command.question_id)
        if question.status is not QuestionStatus.LIVE:
            raise Conflict(f"only a live question can be highlighted; this one is {question.status.value}")
    if state.settings.answering_question_id == command.question_id:
        return []
    settings = state.settings.model_copy(update={"answering_question_id": command.question_id})
    return [SettingsChanged(settings=settings, action="highlighted", by=context.actor.participant_id)]


def edit_question(state: RoomState, command: c.EditQuestion, context: Context) -> list[Event]:
    question = _question(state, command.question_id)
    text = clean_text(command.text, field="question", max_length=MAX_QUESTION_LENGTH)
    if text == question.text:
        return []
    original = question.original_text or question.text
    after = question.model_copy(update={"text": text, "original_text": original})
    return [_changed(question, after, "edited", context)]


def star_question(state: RoomState, command: c.StarQuestion, context: Context) -> list[Event]:
    question = _question(state, command.question_id)
    if question.starred == command.starred:
        return []
    return [
        _changed(
            question,
            question.model_copy(update={"starred": command.starred}),
            "starred",
            context,
        )
    ]


def reply_to_question(state: RoomState, command: c.ReplyToQuestion, context: Context) -> list[Event]:
    question = _question(state, command.question_id)
    reply = None
    if command.reply is not None and command.reply.strip():
        reply = clean_text(command.reply, field="reply", max_length=MAX_REPLY_LENGTH)
    if reply == question.reply:
        return []
    return [_changed(question, question.model_copy(update={"reply": reply}), "replied", context)]


def label_question(state: RoomState, command: c.LabelQuestion, context: Context) -> list[Event]:
    question = _question(state, command.question_id)
    labels = tuple(
        dict.fromkeys(
            clean_text(label, field="label", max_length=MAX_LABEL_LENGTH, multiline=False) for label in command.labels
        )
    )
    if len(labels) > MAX_LABELS:
        raise InvalidInput(f"at most {MAX_LABELS} labels")
    if labels == question.labels:
        return []
    return [
        _changed(
            question,
            question.model_copy(update={"labels": labels}),
            "labelled",
            context,
        )
    ]


def set_moderation(state: RoomState, command: c.SetModeration, context: Context) -> list[Event]:
    if state.settings.moderation is command.mode:
        return []
    settings = state.settings.model_copy(update={"moderation": command.mode})
    return [
        SettingsChanged(
            settings=settings,
            action="moderation_changed",
            by=context.actor.participant_id,
        )
    ]


def create_poll(state: RoomState, command: c.CreatePoll, context: Context) -> list[Event]:
    options = clean_options(command.kind, command.options)
    poll = Poll(
        id=context.new_id,
        kind=command.kind,
        question=clean_text(command.question, field="poll question", max_length=MAX_POLL_QUESTION_LENGTH),
        options=options,
        correct=clean_correct(command.kind, options, command.correct),
        visibility=command.visibility,
        created_at=context.now,
    )
    return [
        PollChanged(
            poll=poll,
            tally=poll_tally(poll, Counter()),
            action="created",
            by=context.actor.participant_id,
        )
    ]


def _closed(state: RoomState, poll: Poll, context: Context) -> PollChanged:
    after = poll.model_copy(update={"status": PollStatus.CLOSED, "closed_at": context.now})
    return _poll_changed(state, after, "closed", context.actor.participant_id)


def _poll_changed(state: RoomState, after: Poll, action: str, by: str | None) -> PollChanged:
    """A poll's new state with its results as they stand, so the event alone can be shown."""
    return PollChanged(
        poll=after,
        tally=state.poll_tally(after.id),
        leaders=state.poll_leaders(after.id),
        answers=state.poll_answers(after.id) if after.kind is PollKind.OPEN_TEXT else [],
        action=action,
        by=by,
    )


def prepare_poll(state: RoomState, command: c.PreparePoll, context: Context) -> list[Event]:
    if command.planned_id in state.settings.prepared_polls:
        return []  # created before (and perhaps deleted since, which is the moderator's choice)
    events = create_poll(state, command, context)
    prepared = (*state.settings.prepared_polls, command.planned_id)
    settings = state.settings.model_copy(update={"prepared_polls": prepared})
    return [*events, SettingsChanged(settings=settings, action="poll_prepared", by=None)]


def set_screen_scene(state: RoomState, command: c.SetScreenScene, context: Context) -> list[Event]:
    if state.settings.screen_scene is command.scene:
        return []
    settings = state.settings.model_copy(update={"screen_scene": command.scene})
    return [SettingsChanged(settings=settings, action="screen_scene_changed", by=context.actor.participant_id)]


def change_poll(state: RoomState, command: c.ChangePoll, context: Context) -> list[Event]:
    poll = state.polls.get(command.poll_id)
    if poll is None:
        raise NotFound("no such poll in this room")
    by = context.actor.participant_id
    if command.action == "delete":
        events: list[Event] = [PollDeleted(poll_id=poll.id, was_public=poll.status.is_public, by=by)]
        if state.settings.active_poll_id == poll.id:
            settings = state.settings.model_copy(update={"active_poll_id": None})
            events.insert(0, SettingsChanged(settings=settings, action="poll_hidden", by=by))
        return events
    if command.action == "open":
        if poll.status is PollStatus.OPEN:
            return []
        after = poll.model_copy(
            update={
                "status": PollStatus.OPEN,
                "opened_at": context.now,
                "revealed": False,  # reopened: its results (a quiz's answer) are hidden again until revealed
                "closed_at": None,
            }
        )
        settings = state.settings.model_copy(update={"active_poll_id": poll.id})
        # One poll at a time: the room shows one, so another left open would take votes unseen.
        closing = [_closed(state, other, context) for other in state.polls.values() if other.status is PollStatus.OPEN]
        return [
            *closing,
            _poll_changed(state, after, "opened", by),
            SettingsChanged(settings=settings, action="poll_shown", by=by),
        ]
    if command.action == "close":
        if poll.status is not PollStatus.OPEN:
            raise Conflict(f"the poll is {poll.status.value}, not open")
        return [_closed(state, poll, context)]
    if poll.status is PollStatus.DRAFT:
        raise Conflict("open the poll before revealing its results")
    if poll.revealed:
        return []
    revealed = poll.model_copy(update={"revealed": True})
    return [_poll_changed(state, revealed, "revealed", by)]


def vote_poll(state: RoomState, command: c.VotePoll, context: Context) -> list[Event]:
    poll = state.polls.get(command.poll_id)
    if poll is None or not poll.status.is_public:
        raise NotFound("no such poll in this room")
    if poll.status is not PollStatus.OPEN:
        raise Conflict("the poll is closed")
    choices = clean_choices(poll, command.choices)
    who = context.actor.participant_id
    previous = state.ballots.get(poll.id, {}).get(who)
    if previous is not None and previous.choices == choices:
        return []
    # No tally here: a vote is the hot path of a vote storm, and a word cloud's tally is a sort of
    # every distinct word. Pages get tallies from the state, conflated, a few times a second.
    return [
        PollVoted(
            poll_id=poll.id,
            kind=poll.kind,
            participant_id=who,
            choices=choices,
            at=context.now,
            name=context.actor.display_name,
            ballots=poll.ballots + (0 if previous else 1),
        )
    ]


def moderate_answer(state: RoomState, command: c.ModerateAnswer, context: Context) -> list[Event]:
    poll = state.polls.get(command.poll_id)
    if poll is None or poll.kind is not PollKind.OPEN_TEXT:
        raise NotFound("no such open-text poll in this room")
    ballot = state.ballots.get(poll.id, {}).get(command.participant_id)
    if ballot is None:
        raise NotFound("no such answer in this poll")
    approved = command.action == "approve"
    if ballot.approved is approved:
        return []
    counts = Counter(state.counts.get(poll.id, Counter()))
    if approved:
        counts.update(ballot.choices)
    elif ballot.approved:
        counts.subtract(ballot.choices)
    return [
        AnswerModerated(
            poll_id=poll.id,
            participant_id=command.participant_id,
            text=ballot.choices[0],
            approved=approved,
            tally=poll_tally(poll, +counts),
            by=context.actor.participant_id,
        )
    ]


_HANDLERS: dict[type, Callable[[RoomState, Any, Context], list[Event]]] = {
    c.AskQuestion: ask_question,
    c.Upvote: upvote,
    c.VotePoll: vote_poll,
    c.ModerateQuestion: moderate_question,
    c.ModerateQuestions: moderate_questions,
    c.MergeQuestions: merge_questions,
    c.MoveQuestion: move_question,
    c.ReceiveQuestion: receive_question,
    c.HighlightQuestion: highlight_question,
    c.EditQuestion: edit_question,
    c.StarQuestion: star_question,
    c.ReplyToQuestion: reply_to_question,
    c.LabelQuestion: label_question,
    c.SetModeration: set_moderation,
    c.CreatePoll: create_poll,
    c.PreparePoll: prepare_poll,
    c.ModerateAnswer: moderate_answer,
    c.SetScreenScene: set_screen_scene,
    c.ChangePoll: change_poll,
}
