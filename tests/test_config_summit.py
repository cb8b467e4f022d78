"""The shipped event file for the 2023 Automotive Carbon Neutrality Summit stays valid and sensible."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from live.config import EventFile, Text, now_and_next, parse_event_file

EVENT_FILE = Path(__file__).resolve().parent.parent / "config" / "summit-2023.toml"
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def load() -> EventFile:
    return parse_event_file(EVENT_FILE)


def all_texts(event: EventFile) -> list[Text]:
    texts: list[Text] = [event.event.name, event.event.venue]
    texts += [t for t in (event.event.city, event.event.organiser) if t is not None]
    for room in event.rooms:
        texts += [t for t in (room.name, room.topic, room.location) if t is not None]
        for session in room.sessions:
            texts.append(session.title)
            for speaker in session.speakers:
                texts.append(speaker.name)
                if speaker.affiliation is not None:
                    texts.append(speaker.affiliation)
    return texts


def test_eight_rooms_one_main() -> None:
    event = load()
    assert len(event.rooms) == 8
    mains = [room for room in event.rooms if room.kind == "main"]
    assert [room.slug for room in mains] == ["main"]
    assert sum(room.kind == "sub" for room in event.rooms) == 7


def test_slugs_unique() -> None:
    slugs = [room.slug for room in load().rooms]
    assert len(slugs) == len(set(slugs))


def test_every_room_has_an_agenda() -> None:
    for room in load().rooms:
        assert len(room.sessions) >= 3, room.slug
        assert room.topic is not None, room.slug
        assert room.location is not None, room.slug


def test_event_dates_and_venue() -> None:
    event = load().event
    assert event.slug == "summit-2023"
    assert event.start_date == dt.date(2023, 9, 19)
    assert event.end_date == dt.date(2023, 9, 20)
    assert event.timezone == "Asia/Shanghai"
    assert "Baiyun" in event.venue.en


def test_sessions_fall_on_event_days() -> None:
    for room in load().rooms:
        for session in room.sessions:
            assert session.start.date() in (dt.date(2023, 9, 19), dt.date(2023, 9, 20))


def test_chinese_names_present() -> None:
    for text in all_texts(load()):
        assert text.zh.strip(), text
        assert CJK.search(text.zh), text.zh


def test_now_and_next_in_main_forum() -> None:
    event = load()
    main = event.room("main")
    assert main is not None
    ordered = sorted(main.sessions, key=lambda session: session.start)
    first, second = ordered[0], ordered[1]
    shanghai = ZoneInfo("Asia/Shanghai")
    during_first = (first.start + (first.end - first.start) / 2).replace(tzinfo=shanghai)
    assert during_first == dt.datetime(2023, 9, 19, 9, 15, tzinfo=shanghai)

    current, upcoming = now_and_next(main, event.zone, during_first)

    assert current == first
    assert current.title.en == "Opening ceremony and welcome addresses"
    assert upcoming == second
    assert upcoming.title.en == "Keynote speeches"


def test_now_and_next_from_utc_clock() -> None:
    event = load()
    main = event.room("main")
    assert main is not None
    # 01:15 UTC is 09:15 in Guangzhou: the opening is on.
    at = dt.datetime(2023, 9, 19, 1, 15, tzinfo=dt.UTC)
    current, upcoming = now_and_next(main, event.zone, at)
    assert current is not None and current.title.zh == "开幕式暨致辞"
    assert upcoming is not None and upcoming.title.zh == "主旨演讲"
