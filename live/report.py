"""The engagement report of a room for a day or a session: what organisers show their sponsors.

Pure: it reads a room's state, its stored events and its audience samples (engines/samples.py)
and returns figures; the web layer (live/web/report.py) fetches them and draws the page. Poll
results are ``export.poll_results``'s, the one home of a poll's result.

Events carry no time of their own, so each is dated here, once (``EventClock``): by the time it
names (a question's ``asked_at`` and ``answered_at``, a ballot's ``at``, a highlight's ``at``), else
by the next such time after it or the first audience sample that saw the room's log past it,
whichever came first (at most one sampling interval late), else by the moment the report is made.
What the room's state keeps with a time (questions asked and answered, ballots) is counted from
the state, so it stays complete when the oldest events are no longer stored.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from .config import EventFile, Room, Session
from .domain.events import AnswerModerated, Event, PollVoted, QuestionChanged, QuestionVoted, SettingsChanged
from .domain.room import RoomState
from .engines.samples import Sample
from .engines.storage import StoredEvent
from .export import csv_cell, local_time, poll_results

TOP_QUESTIONS = 10
MAX_POINTS = 1000  # per viewers chart: a whole day of 30 s samples is drawn in buckets of 87 s
# A moderator's decisions on questions, by the event's action, and what the report calls them.
MODERATION_ACTIONS = {
    "approved": "approved",
    "dismissed": "rejected",  # dismissing is how a moderator rejects a question
    "merged": "merged",
    "edited": "edited",
    "answered": "answered",
    "restored": "restored",
    "moved": "moved",
}


@dataclass(frozen=True)
class Window:
    """The part of the event a report covers: [start, end) in seconds since the epoch."""

    start: float
    end: float
    kind: str  # "day" or "session"
    id: str  # the day (YYYY-MM-DD) or ROOM/SESSION

    def holds(self, moment: float) -> bool:
        return self.start <= moment < self.end


def day_window(day: dt.date, zone: ZoneInfo) -> Window:
    """A calendar day in the event's time zone."""
    start = dt.datetime.combine(day, dt.time(), zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
    return Window(start.timestamp(), end.timestamp(), "day", day.isoformat())


def session_window(room: Room, session: Session, zone: ZoneInfo) -> Window:
    """A session of the agenda: its start and end are the event's local times."""
    start, end = session.start.replace(tzinfo=zone), session.end.replace(tzinfo=zone)
    return Window(start.timestamp(), end.timestamp(), "session", f"{room.slug}/{session.session_id}")


def report_days(event_file: EventFile, today: dt.date) -> list[dt.date]:
    """The days a report may be asked for from the page: the event's, and today (a rehearsal)."""
    event = event_file.event
    days = [event.start_date + dt.timedelta(days=n) for n in range((event.end_date - event.start_date).days + 1)]
    return sorted({*days, today})


class EventClock:
    """When each event happened (see the module's docstring). An event without a time of its own
    happened by the earliest moment known after it: the next event that names its time, or the
    first sample that saw the log past it. Dated so, an approval never comes after the answer
    that followed it, and is late by at most one sampling interval."""

    def __init__(self, events: Iterable[StoredEvent], samples: Iterable[Sample], now: float) -> None:
        events = list(events)
        epochs = {stored.epoch for stored in events}
        # Another epoch's offsets count another log: a sample of it would date these events by
        # whatever happened at the same numbers there (samples from before epochs were kept: "").
        anchors = [(sample.offset, sample.at) for sample in samples if not sample.epoch or sample.epoch in epochs]
        anchors += [(stored.offset, named) for stored in events if (named := _named_time(stored.event)) is not None]
        anchors.sort()
        self._offsets = [offset for offset, _ in anchors]
        self._by = [0.0] * len(anchors)  # the earliest time of any anchor at or after each one
        earliest = now
        for index in range(len(anchors) - 1, -1, -1):
            earliest = min(earliest, anchors[index][1])
            self._by[index] = earliest
        self.now = now

    def time_of(self, stored: StoredEvent) -> float:
        named = _named_time(stored.event)
        if named is not None:
            return named
        index = bisect.bisect_left(self._offsets, stored.offset)
        return self._by[index] if index < len(self._by) else self.now


def _named_time(event: Event) -> float | None:
    if isinstance(event, QuestionChanged):
        if event.action == "asked":
            return event.question.asked_at
        if event.action == "answered":
            return event.question.answered_at
    if isinstance(event, PollVoted):
        return event.at
    if isinstance(event, SettingsChanged):
        return event.at
    return None


def viewers(samples: Iterable[Sample], window: Window, interval: float) -> dict[str, Any]:
    """Audience over time: in each bucket, each process's highest count, added up over processes."""
    inside = [sample for sample in samples if window.holds(sample.at)]
    first = min((sample.at for sample in inside), default=window.start)
    span = max((sample.at for sample in inside), default=first) - first
    step = max(interval, math.ceil(span / MAX_POINTS))
    buckets: dict[int, dict[str, Sample]] = defaultdict(dict)
    peaks: dict[tuple[int, str], tuple[int, int, int]] = {}
    for sample in inside:
        bucket = int((sample.at - first) // step)
        key = (bucket, sample.source)
        old = peaks.get(key, (0, 0, 0))
        peaks[key] = (max(old[0], sample.connections), max(old[1], sample.webrtc), max(old[2], sample.hls))
        buckets[bucket][sample.source] = sample
    times, connections, webrtc, hls = [], [], [], []
    for bucket in sorted(buckets):
        counts = [peaks[(bucket, source)] for source in buckets[bucket]]
        times.append(round(first + bucket * step, 3))
        connections.append(sum(c[0] for c in counts))
        webrtc.append(sum(c[1] for c in counts))
        hls.append(sum(c[2] for c in counts))
    return {
        "step": step,
        "times": times,
        "connections": connections,
        "webrtc": webrtc,
        "hls": hls,
        "peak": {"connections": max(connections, default=0), "webrtc": max(webrtc, default=0),
                 "hls": max(hls, default=0)},
    }  # fmt: skip


def _dated(events: Iterable[StoredEvent], clock: EventClock, window: Window) -> list[tuple[float, Event]]:
    dated = ((clock.time_of(stored), stored.event) for stored in events)
    return sorted(((moment, event) for moment, event in dated if window.holds(moment)), key=lambda d: d[0])


def question_flow(state: RoomState, dated: list[tuple[float, Event]], window: Window) -> dict[str, Any]:
    """Questions asked, made public (approved, or public at once in a post-moderated room) and
    answered, each question counted once per line at its first time, as running totals. Asked and
    answered come from the questions themselves, which keep those times for ever; approvals only
    from the stored events."""
    marks: list[tuple[float, str, str]] = []  # (moment, line, question id)
    for question in state.questions.values():
        if window.holds(question.asked_at):
            marks.append((question.asked_at, "asked", question.id))
        if question.answered_at is not None and window.holds(question.answered_at):
            marks.append((question.answered_at, "answered", question.id))
    for moment, event in dated:
        if isinstance(event, QuestionChanged) and _made_public(event):
            marks.append((moment, "approved", event.question.id))
    firsts: dict[str, set[str]] = {"asked": set(), "approved": set(), "answered": set()}
    times: list[float] = []
    lines: dict[str, list[int]] = {name: [] for name in firsts}
    for moment, line, question_id in sorted(marks):
        if question_id in firsts[line]:
            continue
        firsts[line].add(question_id)
        if times and times[-1] == moment:  # one point per moment: a chart's times only go forward
            for name in firsts:
                lines[name].pop()
            times.pop()
        times.append(moment)
        for name in firsts:
            lines[name].append(len(firsts[name]))
    return {"times": times, **lines, "totals": {name: len(ids) for name, ids in firsts.items()}}


def _made_public(event: QuestionChanged) -> bool:
    return event.action == "approved" or (event.action == "asked" and event.question.status.is_public)


def top_questions(state: RoomState, window: Window) -> list[dict[str, Any]]:
    """The public questions asked in the window with the most votes."""
    public = [q for q in state.questions.values() if q.status.is_public and window.holds(q.asked_at)]
    ranked = sorted(public, key=lambda q: (-q.votes, q.asked_at))[:TOP_QUESTIONS]
    return [
        {"id": q.id, "text": q.text, "votes": q.votes, "status": q.status.value, "author_name": q.author_name,
         "also_asked": len(q.merged_askers)}
        for q in ranked
    ]  # fmt: skip


def participation(state: RoomState, dated: list[tuple[float, Event]], window: Window) -> dict[str, int]:
    """Who took part (by participant id; never reported themselves): asked, upvoted, voted in a
    poll. Askers and ballots the room keeps with their times count even once their events are no
    longer stored; upvotes have no time but their events'."""
    askers = {q.author_id for q in state.questions.values() if window.holds(q.asked_at)}
    poll_voters = {who for ballots in state.ballots.values() for who, b in ballots.items() if window.holds(b.at)}
    upvoters = set()
    for _, event in dated:
        if isinstance(event, QuestionChanged) and event.action == "asked":
            askers.add(event.question.author_id)
        elif isinstance(event, QuestionVoted) and event.voted:
            upvoters.add(event.participant_id)
        elif isinstance(event, PollVoted):
            poll_voters.add(event.participant_id)
    return {
        "participants": len(askers | upvoters | poll_voters),
        "asked": len(askers),
        "upvoted": len(upvoters),
        "voted": len(poll_voters),
        "voted_or_upvoted": len(upvoters | poll_voters),
    }


def moderation(dated: list[tuple[float, Event]]) -> dict[str, Any]:
    """The moderators' decisions, in total and per moderator (a short form of their participant id)."""
    per: dict[str, Counter[str]] = defaultdict(Counter)
    for _, event in dated:
        if isinstance(event, QuestionChanged) and event.by and event.action in MODERATION_ACTIONS:
            per[event.by[:8]][MODERATION_ACTIONS[event.action]] += 1
        elif isinstance(event, AnswerModerated) and event.by:
            per[event.by[:8]]["approved" if event.approved else "rejected"] += 1
    total: Counter[str] = sum(per.values(), Counter())
    names = list(dict.fromkeys(MODERATION_ACTIONS.values()))
    return {
        "actions": names,
        "total": {name: total[name] for name in names},
        "moderators": [
            {"moderator": who, **{name: counts[name] for name in names}} for who, counts in sorted(per.items())
        ],
    }


def room_report(
    state: RoomState,
    events: list[StoredEvent],
    samples: list[Sample],
    window: Window,
    now: float,
    zone: ZoneInfo,
    interval: float,
) -> dict[str, Any]:
    """Every figure of one room. ``events``: the room's stored log as far back as it is kept
    (``history_from`` says where it starts when older events were dropped)."""
    dated = _dated(events, EventClock(events, samples, now), window)
    polls = [
        poll for poll in poll_results([state], zone)
        if (opened := state.polls[poll["poll_id"]].opened_at) is not None and window.holds(opened)
    ]  # fmt: skip
    first = events[0].offset if events else 1
    return {
        "room": state.room_id,
        "viewers": viewers(samples, window, interval),
        "questions": question_flow(state, dated, window),
        "top_questions": top_questions(state, window),
        "polls": polls,
        "participation": participation(state, dated, window),
        "moderation": moderation(dated),
        "history_from": None if first <= 1 else first,
    }


CSV_COLUMNS = ("room", "section", "at", "name", "value")


def to_csv(report: dict[str, Any]) -> str:
    """The report's figures as one long table, one figure per row: a spreadsheet pivots it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    zone = ZoneInfo(report["timezone"])
    for room in report["rooms"]:
        for row in _rows(room, zone):
            writer.writerow([csv_cell(value) for value in row])
    return "\ufeff" + buffer.getvalue()  # the BOM makes Excel read Chinese text as UTF-8


def _rows(room: dict[str, Any], zone: ZoneInfo) -> Iterable[tuple[Any, ...]]:
    slug = room["room"]
    seen = room["viewers"]
    for index, moment in enumerate(seen["times"]):
        for name in ("connections", "webrtc", "hls"):
            yield slug, "viewers", local_time(moment, zone), name, seen[name][index]
    for name, value in seen["peak"].items():
        yield slug, "peak_viewers", "", name, value
    flow = room["questions"]
    for index, moment in enumerate(flow["times"]):
        for name in ("asked", "approved", "answered"):
            yield slug, "questions", local_time(moment, zone), name, flow[name][index]
    for name, value in flow["totals"].items():
        yield slug, "questions_total", "", name, value
    for name, value in room["participation"].items():
        yield slug, "participation", "", name, value
    for name, value in room["moderation"]["total"].items():
        yield slug, "moderation_total", "", name, value
    for moderator in room["moderation"]["moderators"]:
        for name in room["moderation"]["actions"]:
            yield slug, "moderation", "", f"{moderator['moderator']}/{name}", moderator[name]
    for question in room["top_questions"]:
        yield slug, "top_question", "", question["text"], question["votes"]
    for poll in room["polls"]:
        yield slug, "poll_ballots", "", poll["question"], poll["ballots"]
        for option, count in poll["tally"].items():
            yield slug, "poll", "", f"{poll['question']} / {option}", count
