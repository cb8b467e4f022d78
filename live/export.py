"""Exporting questions for the record: one row per question, as CSV (for spreadsheets) or JSON.

The author's participant id is never exported; only the name they chose to give. A question's
replay link points at the moment it was highlighted (else answered) in its session's replay. Cells that a
spreadsheet would run as a formula (=, +, -, @) are prefixed with an apostrophe, since the text
comes from viewers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable
from typing import Any
from zoneinfo import ZoneInfo

from .domain.polls import Poll, PollKind, ranking_order
from .domain.questions import Question
from .domain.room import RoomState

COLUMNS = (
    "room", "id", "status", "text", "original_text", "author_name", "votes", "starred", "labels",
    "reply", "also_asked_by", "asked_at", "answered_at", "highlighted_at", "merged_into", "moved_to", "replay",
)  # fmt: skip


def local_time(seconds: float | None, zone: ZoneInfo) -> str | None:
    """A moment as the event's local time (ISO 8601, to the second): what exports and reports show."""
    return dt.datetime.fromtimestamp(seconds, zone).isoformat(timespec="seconds") if seconds is not None else None


def question_rows(
    states: Iterable[RoomState], zone: ZoneInfo, replay_link: Callable[[str, float], str | None] | None = None
) -> list[dict[str, Any]]:
    """``replay_link(room, moment)``: the address of the replay at that moment, if one was recorded."""
    rows = []
    for state in states:
        for question in sorted(state.questions.values(), key=lambda q: q.asked_at):
            rows.append(
                {
                    "room": state.room_id,
                    "id": question.id,
                    "status": question.status.value,
                    "text": question.text,
                    "original_text": question.original_text,
                    "author_name": question.author_name,
                    "votes": question.votes,
                    "starred": question.starred,
                    "labels": list(question.labels),
                    "reply": question.reply,
                    "also_asked_by": [ask.author_name or "" for ask in question.merged_askers],
                    "asked_at": local_time(question.asked_at, zone),
                    "answered_at": local_time(question.answered_at, zone),
                    "highlighted_at": local_time(question.highlighted_at, zone),
                    "merged_into": question.merged_into,
                    "moved_to": question.moved_to,
                    "replay": _replay(state.room_id, question, replay_link),
                }
            )
    return rows


def _replay(room_id: str, question: Question, link: Callable[[str, float], str | None] | None) -> str | None:
    moment = question.highlighted_at or question.answered_at
    return None if link is None or moment is None else link(room_id, moment)


def csv_cell(value: Any) -> str:
    """A value as a CSV cell that a spreadsheet shows as text: lists joined, and a leading
    character a spreadsheet would run as a formula (=, +, -, @, tab, CR) escaped with a quote,
    since questions and names come from anyone."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([csv_cell(row[column]) for column in COLUMNS])
    return "\ufeff" + buffer.getvalue()  # the BOM makes Excel read the Chinese text as UTF-8


POLL_COLUMNS = (
    "room",
    "poll_id",
    "kind",
    "question",
    "status",
    "ballots",
    "opened_at",
    "closed_at",
    "option",
    "count",
    "correct",
    "place",  # a ranking poll's: its options by Borda points, "count" holding the points
)


def poll_results(states: Iterable[RoomState], zone: ZoneInfo) -> list[dict[str, Any]]:
    """Each poll with its exact tally (and a quiz's leaders, an open poll's approved answers)."""
    polls = []
    for state in states:
        for poll in sorted(state.polls.values(), key=lambda p: p.created_at):
            answers = [
                {"text": a["text"], "status": a["status"], "name": a["name"]} for a in state.poll_answers(poll.id)
            ] if poll.kind is PollKind.OPEN_TEXT else []  # fmt: skip
            polls.append(
                {
                    "room": state.room_id,
                    "poll_id": poll.id,
                    "kind": poll.kind.value,
                    "question": poll.question,
                    "status": poll.status.value,
                    "visibility": poll.visibility.value,
                    "ballots": poll.ballots,
                    "opened_at": local_time(poll.opened_at, zone),
                    "closed_at": local_time(poll.closed_at, zone),
                    "tally": state.poll_tally(poll.id),
                    "correct": list(poll.correct),
                    "leaders": state.poll_leaders(poll.id),
                    "answers": answers,
                    **_ranking_and_series(state, poll),
                }
            )
    return polls


def _ranking_and_series(state: RoomState, poll: Poll) -> dict[str, Any]:
    """A ranking poll's order by points; a quiz's series and every player's standing in it."""
    if poll.kind is PollKind.RANKING:
        return {"ranking": ranking_order(poll, state.poll_tally(poll.id))}
    if poll.kind is PollKind.QUIZ:
        table = state.series_standings(poll.series)
        return {"series": poll.series, "standings": [s.public_view() for s in table]}
    return {}


def _rows(poll: dict[str, Any]) -> list[tuple[str, int, int | None]]:
    """(option or word, count, place): a ranking's in its order, with the points as the count."""
    if "ranking" in poll:
        return [(r["option"], r["points"], r["place"]) for r in poll["ranking"]]
    return [(option, count, None) for option, count in (poll["tally"] or {"": 0}).items()]


def polls_to_csv(polls: list[dict[str, Any]]) -> str:
    """One row per (poll, option or word): the shape a spreadsheet chart wants."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(POLL_COLUMNS)
    for poll in polls:
        for option, count, place in _rows(poll):
            row = {**poll, "option": option, "count": count, "correct": option in poll["correct"], "place": place}
            writer.writerow([csv_cell(row[column]) for column in POLL_COLUMNS])
    return "\ufeff" + buffer.getvalue()
