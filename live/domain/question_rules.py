"""The rules for questions: asking, upvoting, moderating, merging, moving, highlighting and the
moderators' own touches (edits, stars, replies, labels). Each is a pure function of
(state, command, context) that returns the events it decides, and never changes the state."""

from __future__ import annotations

from . import commands as c
from . import reasons
from .context import Context
from .errors import Conflict, InvalidInput, NotAllowed, NotFound
from .events import Event, QuestionChanged, QuestionVoted, SettingsChanged
from .filters import DUPLICATE_WINDOW, most_similar
from .questions import (
    ARCHIVED,
    GONE,
    MAX_LABEL_LENGTH,
    MAX_LABELS,
    MAX_QUESTION_LENGTH,
    MAX_REPLY_LENGTH,
    TRANSITIONS,
    MergedAsk,
    Question,
    QuestionStatus,
)
from .room import ModerationMode, RoomState
from .text import clean_text

PAST_TENSE = {
    "approve": "approved",
    "dismiss": "dismissed",
    "restore": "restored",
    "mark_answered": "answered",
}


def _question(state: RoomState, question_id: str, *, public_only: bool = False) -> Question:
    question = state.questions.get(question_id)
    if question is None or (public_only and not question.status.is_public):
        raise NotFound("no such question in this room")
    return question


def _still_here(state: RoomState, question_id: str) -> Question:
    """A question a moderator may still edit, star, reply to or label: not one that has left the
    room (withdrawn by its asker, merged into another, moved), which nobody sees any more and no
    moderator action brings back, so a change to it would only be lost work."""
    question = _question(state, question_id)
    if question.status in GONE:
        raise Conflict(reasons.QUESTION_GONE)
    return question


def _changed(before: Question, after: Question, action: str, context: Context) -> QuestionChanged:
    return QuestionChanged(
        question=after,
        action=action,
        was_public=before.status.is_public,
        by=context.actor.participant_id,
        previous_status=before.status,
    )


def _highlight_cleared(state: RoomState, context: Context) -> SettingsChanged:
    """The "now answering" highlight taken off a question that stopped being live."""
    settings = state.settings.model_copy(update={"answering_question_id": None})
    return SettingsChanged(settings=settings, action="highlight_cleared", by=context.actor.participant_id)


def ask_question(state: RoomState, command: c.AskQuestion, context: Context) -> list[Event]:
    text = clean_text(command.text, field="question", max_length=MAX_QUESTION_LENGTH)
    name = None if command.anonymous else context.actor.display_name
    if state.settings.require_name and not name:
        raise InvalidInput(reasons.NAME_REQUIRED)
    if name and context.policy.word_filter.matches(name):
        # Refused, not held: the asker can change their name or ask anonymously at once, and the
        # moderator never has to read the name to keep it off the screen.
        raise InvalidInput(reasons.NAME_NOT_ALLOWED)
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
        duplicate_of=most_similar(text, ((q.id, q.text) for q in recent if q.status not in ARCHIVED), state.room_id),
        asked_at=context.now,
    )
    return [QuestionChanged(question=question, action="asked", was_public=False, by=None)]


def _own_pending(state: RoomState, question_id: str, context: Context) -> Question:
    """The asker's own question, while no moderator has acted on it: the only one they may change.
    Someone else's question is refused the same whether or not it is public. A moderator who
    merged other questions into it (their askers and votes now live on it) or edited it has acted
    on it, though it still awaits approval: withdrawing would lose the others' questions."""
    question = _question(state, question_id)
    if question.author_id != context.actor.participant_id:
        raise NotAllowed(reasons.NOT_YOUR_QUESTION)
    moderated = bool(question.merged_askers) or question.original_text is not None
    if question.status is not QuestionStatus.PENDING or moderated:
        raise Conflict(reasons.NO_LONGER_PENDING)
    return question


def edit_my_question(state: RoomState, command: c.EditMyQuestion, context: Context) -> list[Event]:
    """The asker's rewrite goes through the word filter again; the question still awaits a
    moderator, whatever the room's moderation mode (it was held, or the room pre-moderates)."""
    question = _own_pending(state, command.question_id, context)
    text = clean_text(command.text, field="question", max_length=MAX_QUESTION_LENGTH)
    if text == question.text:
        return []
    flags = tuple(flag for flag in question.flags if flag != "word_filter")
    if context.policy.word_filter.matches(text):
        flags = (*flags, "word_filter")
    after = question.model_copy(update={"text": text, "flags": flags})
    return [_changed(question, after, "edited_by_asker", context)]


def withdraw_question(state: RoomState, command: c.WithdrawQuestion, context: Context) -> list[Event]:
    question = _own_pending(state, command.question_id, context)
    after = question.model_copy(update={"status": QuestionStatus.WITHDRAWN})
    return [_changed(question, after, "withdrawn", context)]


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
        events.append(_highlight_cleared(state, context))
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
        events.append(_highlight_cleared(state, context))
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
        if duplicate.status in GONE:
            raise Conflict(f"a selected question is already {duplicate.status.value}")
        duplicates.append(duplicate)
    voters = set(state.upvotes.get(kept.id, set()))
    askers = list(kept.merged_askers)
    events: list[Event] = []
    for duplicate in duplicates:
        voters |= state.upvotes.get(duplicate.id, set())
        askers.append(MergedAsk(question_id=duplicate.id, author_id=duplicate.author_id,
                                author_name=duplicate.author_name, text=duplicate.text,
                                public=duplicate.status.is_public))  # fmt: skip
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
        events.append(_highlight_cleared(state, context))
    return events


def move_question(state: RoomState, command: c.MoveQuestion, context: Context) -> list[Event]:
    question = _question(state, command.question_id)
    if command.to_room == state.room_id:
        raise InvalidInput("the question is already in this room")
    if question.status in GONE:
        raise Conflict(f"cannot move a question that is {question.status.value}")
    if not context.actor.moderates(command.to_room):
        raise NotAllowed("moving a question needs the moderator role in both rooms")
    moved = question.model_copy(update={"status": QuestionStatus.MOVED, "moved_to": command.to_room})
    events: list[Event] = [_changed(question, moved, "moved", context)]
    if state.settings.answering_question_id == question.id:
        events.append(_highlight_cleared(state, context))
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
    return [SettingsChanged(settings=settings, action="highlighted", by=context.actor.participant_id, at=context.now)]


def edit_question(state: RoomState, command: c.EditQuestion, context: Context) -> list[Event]:
    question = _still_here(state, command.question_id)
    text = clean_text(command.text, field="question", max_length=MAX_QUESTION_LENGTH)
    if text == question.text:
        return []
    original = question.original_text or question.text
    after = question.model_copy(update={"text": text, "original_text": original})
    return [_changed(question, after, "edited", context)]


def star_question(state: RoomState, command: c.StarQuestion, context: Context) -> list[Event]:
    question = _still_here(state, command.question_id)
    if question.starred == command.starred:
        return []
    return [_changed(question, question.model_copy(update={"starred": command.starred}), "starred", context)]


def reply_to_question(state: RoomState, command: c.ReplyToQuestion, context: Context) -> list[Event]:
    question = _still_here(state, command.question_id)
    reply = None
    if command.reply is not None and command.reply.strip():
        reply = clean_text(command.reply, field="reply", max_length=MAX_REPLY_LENGTH)
    if reply == question.reply:
        return []
    return [_changed(question, question.model_copy(update={"reply": reply}), "replied", context)]


def label_question(state: RoomState, command: c.LabelQuestion, context: Context) -> list[Event]:
    question = _still_here(state, command.question_id)
    labels = tuple(
        dict.fromkeys(
            clean_text(label, field="label", max_length=MAX_LABEL_LENGTH, multiline=False) for label in command.labels
        )
    )
    if len(labels) > MAX_LABELS:
        raise InvalidInput(f"at most {MAX_LABELS} labels")
    if labels == question.labels:
        return []
    return [_changed(question, question.model_copy(update={"labels": labels}), "labelled", context)]
