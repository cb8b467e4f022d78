"""The lobby's order and states, as rules on the shipped event (live/web/lobby.py), and the
agenda's clock that rehearsals and the browser tests set (live/clock.py, --agenda-now)."""

from __future__ import annotations

import argparse
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from live.clock import AgendaClock
from live.config import Room, Session, parse_event_file
from live.settings import add_arguments, resolve
from live.web.lobby import event_state, lobby_view
from tests.conftest import REPO

EVENT = parse_event_file(REPO / "config" / "summit-2023.toml")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(local: str) -> dt.datetime:
    return dt.datetime.fromisoformat(local).replace(tzinfo=SHANGHAI)


def order(local: str) -> list[tuple[str, list[tuple[str, str]]]]:
    view = lobby_view(EVENT, at(local), lambda room: {}, lambda room, session: False)
    return [(str(day.date), [(card.room.slug, card.status) for card in day.cards]) for day in view.days]


@pytest.mark.parametrize(
    ("local", "state"),
    [("2023-09-18T23:59", "before"), ("2023-09-19T08:59", "before"), ("2023-09-19T09:00", "during"),
     ("2023-09-19T20:00", "during"), ("2023-09-20T16:59", "during"), ("2023-09-20T17:00", "after")],
)  # fmt: skip
def test_the_event_is_before_during_or_after_by_its_first_and_last_sessions(local: str, state: str) -> None:
    assert event_state(EVENT, dt.datetime.fromisoformat(local)) == state


def test_during_the_event_today_comes_first_with_what_is_on_now_at_the_top() -> None:
    [today, tomorrow] = order("2023-09-19T14:20")
    assert today == ("2023-09-19", [("industry-chain", "now"), ("industrial-planning", "now"),
                                    ("automaker-transformation", "now"), ("main", "over")])  # fmt: skip
    assert tomorrow[0] == "2023-09-20" and {status for _, status in tomorrow[1]} == {"later"}
    [today, yesterday] = order("2023-09-20T14:30")
    assert today[0] == "2023-09-20" and yesterday[0] == "2023-09-19"
    assert [status for _, status in today[1]] == ["now", "now", "over", "over"]


def test_a_replay_is_offered_only_for_a_session_over_by_the_agenda() -> None:
    asked: list[str] = []

    def recorded(room: Room, session: Session) -> bool:
        asked.append(session.session_id)
        return True

    view = lobby_view(EVENT, at("2023-09-19T10:00"), lambda room: {}, recorded)
    main = next(card for day in view.days for card in day.cards if card.room.slug == "main")
    assert [item.view["id"] for item in main.replays] == ["20230919-0900"]  # the keynotes are on now
    assert asked == ["20230919-0900"]  # nor is the recording looked up for what is not over
    assert view.upcoming is not None and view.upcoming.view["id"] == "20230919-1050"


def test_the_agenda_clock_reads_the_local_time_it_was_given_and_runs_on() -> None:
    clock = AgendaClock.starting_at(dt.datetime(2023, 9, 19, 10, 0), SHANGHAI, real_now=1_000_000.0)
    assert clock.offset == at("2023-09-19T10:00").timestamp() - 1_000_000.0
    assert abs(AgendaClock().timestamp() - dt.datetime.now(dt.UTC).timestamp()) < 5
    assert AgendaClock.starting_at(None, SHANGHAI).offset == 0.0


def test_agenda_now_is_a_local_time_without_an_offset() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    settings = resolve(parser.parse_args(["--agenda-now", "2023-09-19T10:00"]), environ={})
    assert settings.agenda_now == dt.datetime(2023, 9, 19, 10, 0)
    assert resolve(parser.parse_args([]), environ={"LIVE_AGENDA_NOW": "2023-09-20T09:30"}).agenda_now == dt.datetime(
        2023, 9, 20, 9, 30
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["--agenda-now", "2023-09-19T10:00+08:00"])
