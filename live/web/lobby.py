"""The lobby's view of the event at one moment: where it stands (before, during, after), its days
with the rooms that meet on each, what is on now first, and the full agenda.

A person arriving on their phone wants what is on now; someone a week later wants the agenda and
the replays. Both read the same days: during the event today comes first, its rooms on now at the
top, then those still to come, then those that are over; before and after it, the days in order.
Only the page's order and labels are decided here (pages.py renders them); which replays exist is
asked of live/web/replay.py through ``has_replay``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..config import EventFile, Room, Session, now_and_next
from .api import session_view

State = Literal["before", "during", "after"]
HasReplay = Callable[[Room, Session], bool]


@dataclass
class AgendaItem:
    """One session of the agenda, with its room and where it stands."""

    room: Room
    session: Session
    status: Literal["over", "now", "later"]
    replay: bool
    view: dict[str, Any]


@dataclass
class RoomCard:
    """A room on one day: its sessions of that day and whether one is on now."""

    room: Room
    info: dict[str, Any]  # api.room_view: name, topic, now, next, url
    sessions: list[AgendaItem]

    @property
    def status(self) -> Literal["now", "later", "over"]:
        if any(item.status == "now" for item in self.sessions):
            return "now"
        return "later" if any(item.status == "later" for item in self.sessions) else "over"

    @property
    def replays(self) -> list[AgendaItem]:
        return [item for item in self.sessions if item.replay]

    def order(self) -> tuple[int, dt.datetime]:
        """On now first, then the next to start, then those that are over (earliest first)."""
        rank = {"now": 0, "later": 1, "over": 2}[self.status]
        upcoming = [item.session.start for item in self.sessions if item.status == "later"]
        first = min(upcoming) if rank == 1 else min(item.session.start for item in self.sessions)
        return rank, first


@dataclass
class Day:
    date: dt.date | None  # None: rooms without sessions
    today: bool = False
    cards: list[RoomCard] = field(default_factory=list)

    @property
    def agenda(self) -> list[AgendaItem]:
        """The day's sessions in time order, every room together: the printed programme."""
        items = [item for card in self.cards for item in card.sessions]
        return sorted(items, key=lambda item: (item.session.start, item.room.slug))


@dataclass
class Lobby:
    state: State
    days: list[Day]
    first: AgendaItem | None  # the event's first session: when it starts, before it
    upcoming: AgendaItem | None  # the next session to start, during the event

    @property
    def on_now(self) -> list[RoomCard]:
        return [card for day in self.days for card in day.cards if card.status == "now"]

    @property
    def replay_count(self) -> int:
        return sum(len(card.replays) for day in self.days for card in day.cards)


def event_state(event_file: EventFile, local: dt.datetime) -> State:
    """Before its first session, during, or after its last one (without sessions: its dates)."""
    sessions = [session for room in event_file.rooms for session in room.sessions]
    event = event_file.event
    start = min((s.start for s in sessions), default=dt.datetime.combine(event.start_date, dt.time()))
    end = max((s.end for s in sessions), default=dt.datetime.combine(event.end_date + dt.timedelta(days=1), dt.time()))
    return "before" if local < start else "after" if local >= end else "during"


def lobby_view(
    event_file: EventFile, at: dt.datetime, room_info: Callable[[Room], dict[str, Any]], has_replay: HasReplay
) -> Lobby:
    zone = event_file.zone
    local = at.astimezone(zone).replace(tzinfo=None)
    state = event_state(event_file, local)
    by_date: dict[dt.date | None, Day] = {}
    items: list[AgendaItem] = []
    for room in event_file.rooms:
        info = room_info(room)
        sessions: dict[dt.date | None, list[AgendaItem]] = {}
        current, _ = now_and_next(room, zone, at)
        for session in sorted(room.sessions, key=lambda s: s.start):
            over = session.end <= local
            status: Literal["over", "now", "later"] = "now" if session is current else "over" if over else "later"
            view = session_view(session, zone) or {}
            view["id"] = session.session_id
            item = AgendaItem(room, session, status, over and has_replay(room, session), view)
            sessions.setdefault(session.start.date(), []).append(item)
            items.append(item)
        for date, day_items in (sessions or {None: []}).items():
            day = by_date.setdefault(date, Day(date, today=date == local.date()))
            day.cards.append(RoomCard(room, info, day_items))
    for day in by_date.values():
        if day.date is not None:
            day.cards.sort(key=RoomCard.order)
    dated = sorted((day for day in by_date.values() if day.date is not None), key=lambda day: day.date or dt.date.min)
    if state == "during":  # today first, the days to come, then the days gone by
        dated = [d for d in dated if d.date and d.date >= local.date()] + [
            d for d in dated if d.date and d.date < local.date()
        ]
    days = dated + ([by_date[None]] if None in by_date else [])
    ordered = sorted(items, key=lambda item: item.session.start)
    later = [item for item in ordered if item.status == "later"]
    return Lobby(state, days, ordered[0] if ordered else None, later[0] if later else None)
