"""The engagement report: the audience samples store (on both engines), the sampler, and the
figures live/report.py makes from a room's events and samples."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bench.whep_watcher import Watcher
from live import report
from live.domain.roles import Actor
from live.domain.room import RoomState
from live.engines import samples as samples_module
from live.engines.samples import RedisSamples, Sample, SampleStore, SqliteSamples
from live.engines.storage import StoredEvent
from live.sampler import AudienceSampler
from live.settings import ServeSettings

from .conftest import ADMIN_KEY, LiveServer, RedisServer
from .livetools import Person, until
from .rooms import MOD, do

ZONE = ZoneInfo("Asia/Shanghai")
WINDOW = report.Window(0.0, 10_000.0, "day", "test")
MakeStore = Callable[..., SampleStore]


# -- the samples store: the same contract on SQLite and Redis ----------------------------------
@pytest.fixture(params=["embedded", "redis"])
async def make_store(
    request: pytest.FixtureRequest, tmp_path: Path, redis_server: RedisServer
) -> AsyncIterator[MakeStore]:
    """Makes stores over one place, as a restarted process would find it."""
    stores: list[SampleStore] = []
    slug = f"test-{request.node.name}".replace("[", "-").replace("]", "")

    def make(max_samples: int = 1000) -> SampleStore:
        store: SampleStore
        if request.param == "embedded":
            store = SqliteSamples(tmp_path / "samples.sqlite3", max_samples)
        else:
            store = RedisSamples(redis_server.url, slug, max_samples)
        stores.append(store)
        return store

    yield make
    for store in stores:
        await store.close()


def sample(
    at: float, connections: int = 1, room: str = "main", source: str = "a", offset: int = 0, epoch: str = ""
) -> Sample:
    return Sample(room, at, offset, connections, webrtc=2, hls=3, source=source, epoch=epoch)


async def test_samples_are_read_back_in_time_order_by_room_and_period(make_store: MakeStore) -> None:
    store = make_store()
    await store.open()
    await store.add([sample(30.0, 3, source="b"), sample(10.0, 1), sample(20.0, 2, room="hall")])
    await store.add([sample(20.0, 2), sample(40.0, 4)])
    assert await store.read("main", 0, 100) == [sample(10.0, 1), sample(20.0, 2), sample(30.0, 3, source="b"),
                                                sample(40.0, 4)]  # fmt: skip
    assert [s.at for s in await store.read("main", 15, 30)] == [20.0, 30.0]
    assert await store.read("hall", 0, 100) == [sample(20.0, 2, room="hall")]
    assert await store.read("elsewhere", 0, 100) == []


async def test_samples_outlive_the_process(make_store: MakeStore) -> None:
    first = make_store()
    await first.open()
    await first.add([sample(10.0, 7, offset=5, epoch="e1")])
    await first.close()
    again = make_store()
    await again.open()
    assert await again.read("main", 0, 100) == [sample(10.0, 7, offset=5, epoch="e1")]


def test_a_redis_sample_from_another_version_is_read() -> None:
    """During a rolling upgrade one Redis holds samples of both versions: an older one's lack
    fields (their defaults), a newer one's may have more (left out)."""
    older = {"room_id": "main", "at": 10.0, "offset": 5, "connections": 7, "webrtc": 2, "hls": 3, "source": "a"}
    assert samples_module._sample(older) == sample(10.0, 7, offset=5)
    assert samples_module._sample({**older, "epoch": "e1", "later": 1}) == sample(10.0, 7, offset=5, epoch="e1")


def test_a_samples_file_from_before_epochs_gains_the_column_and_keeps_its_samples(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript("""
        CREATE TABLE samples (
            room_id TEXT NOT NULL, source TEXT NOT NULL, at REAL NOT NULL, offset INTEGER NOT NULL,
            connections INTEGER NOT NULL, webrtc INTEGER NOT NULL, hls INTEGER NOT NULL,
            PRIMARY KEY (room_id, at, source)
        ) WITHOUT ROWID;
        INSERT INTO samples VALUES ('main', 'a', 10.0, 5, 7, 2, 3);
        """)

    async def reopen() -> list[Sample]:
        store = SqliteSamples(path)
        await store.open()
        await store.add([sample(20.0, 8, offset=6, epoch="e2")])
        read = await store.read("main", 0, 100)
        await store.close()
        return read

    assert asyncio.run(reopen()) == [sample(10.0, 7, offset=5), sample(20.0, 8, offset=6, epoch="e2")]


async def test_each_room_and_process_keeps_its_newest_samples_only(make_store: MakeStore) -> None:
    store = make_store(max_samples=3)
    await store.open()
    for at in range(1, 7):
        await store.add([sample(float(at)), sample(float(at), source="b")])
    kept = await store.read("main", 0, 100)
    assert [(s.at, s.source) for s in kept if s.source == "a"] == [(4.0, "a"), (5.0, "a"), (6.0, "a")]
    assert len(kept) == 6


# -- the sampler: what one process counts ------------------------------------------------------
class MemoryStore(SampleStore):
    def __init__(self) -> None:
        self.samples: list[Sample] = []

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def add(self, samples: list[Sample]) -> None:
        self.samples += samples

    async def read(self, room_id: str, since: float, until: float) -> list[Sample]:
        return [s for s in self.samples if s.room_id == room_id and since <= s.at <= until]


def test_the_sampler_counts_pages_webrtc_players_and_hls_players() -> None:
    hls = SimpleNamespace(requests={"segment": 100}, target=3, segments=[SimpleNamespace(duration=2.0)] * 6)
    media = SimpleNamespace(rooms={"main": SimpleNamespace(players={"p1": 1, "p2": 2}, hls=hls)})
    engine = SimpleNamespace(room_ids=["main"], position=lambda room: SimpleNamespace(epoch="e1", offset=42))
    hub = SimpleNamespace(count=lambda room: 5)
    sampler = AudienceSampler(MemoryStore(), engine, hub, media, interval=10.0, source="here")  # type: ignore[arg-type]
    assert sampler.take(1000.0) == [Sample("main", 1000.0, 42, 5, 2, 0, "here", "e1")]  # the HLS counter's start
    hls.requests["segment"] = 115  # 15 segments of 2 s in 10 s: three players keeping up
    assert sampler.take(1010.0) == [Sample("main", 1010.0, 42, 5, 2, 3, "here", "e1")]


def test_processes_on_different_hosts_count_as_different_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --advertise-url every process's own URL is http://127.0.0.1:PORT: two hosts on one
    Redis on the same port must still keep two series of samples, not overwrite one."""
    sources = []
    for host in ("app-1", "app-2"):
        monkeypatch.setattr(socket, "gethostname", lambda host=host: host)
        settings = ServeSettings(port=8000, redis="redis://redis:6379/0")
        assert settings.own_url == "http://127.0.0.1:8000"
        sources.append(settings.sample_source)
    assert sources == ["app-1:8000", "app-2:8000"]
    advertised = ServeSettings(port=8000, redis="redis://redis:6379/0", advertise_url="http://app1:8000/")
    assert advertised.sample_source == "http://app1:8000"  # stable across restarts, as before
    assert ServeSettings(port=8000).sample_source == "http://127.0.0.1:8000"  # embedded: one process, as before


# -- the figures -------------------------------------------------------------------------------
class Room:
    """A room driven through its rules, its events numbered as the engines store them."""

    def __init__(self) -> None:
        self.state = RoomState("main")
        self.log: list[StoredEvent] = []

    def do(self, actor: Actor, command: dict[str, Any], now: float) -> Any:
        events = do(self.state, actor, command, now=now)
        for event in events:
            self.log.append(StoredEvent("epoch", len(self.log) + 1, event))
        return events[0]

    @property
    def offset(self) -> int:
        return len(self.log)

    def report(self, samples: list[Sample], window: report.Window = WINDOW, now: float = 9000.0) -> dict[str, Any]:
        return report.room_report(self.state, self.log, samples, window, now, ZONE, 30.0)


def asked(room: Room, who: str, at: float, text: str = "Why?") -> str:
    return str(room.do(Actor(who), {"type": "ask_question", "text": text}, at).question.id)


def moderate(room: Room, question_id: str, action: str, at: float) -> None:
    room.do(MOD, {"type": "moderate_question", "question_id": question_id, "action": action}, at)


def test_an_approval_is_dated_by_the_first_sample_that_saw_it() -> None:
    room = Room()
    question = asked(room, "ann", 100.0)
    samples = [sample(110.0, offset=room.offset)]
    moderate(room, question, "approve", 120.0)  # events carry no time: only the next sample dates it
    samples.append(sample(140.0, offset=room.offset))
    flow = room.report(samples)["questions"]
    assert (flow["times"], flow["asked"], flow["approved"]) == ([100.0, 140.0], [1, 1], [0, 1])
    assert room.report(samples[:1])["questions"]["times"] == [100.0, 9000.0]  # not sampled yet: dated now


def test_events_are_dated_by_their_own_logs_samples_not_those_of_a_log_started_again() -> None:
    """A room whose log was lost and started again (a new epoch) numbers its events from 1: the
    old log's samples, earlier and at higher offsets, must not date them."""
    room = Room()  # its events are of epoch "epoch"
    question = asked(room, "ann", 100.0)
    moderate(room, question, "approve", 120.0)
    samples = [sample(50.0, offset=10, epoch="lost"), sample(140.0, offset=room.offset, epoch="epoch")]
    flow = room.report(samples)["questions"]
    assert (flow["times"], flow["approved"]) == ([100.0, 140.0], [0, 1])


def test_an_approval_never_comes_after_the_answer_that_followed_it() -> None:
    room = Room()
    question = asked(room, "ann", 100.0)
    moderate(room, question, "approve", 101.0)
    moderate(room, question, "mark_answered", 102.0)  # the answer names its time
    flow = room.report([sample(130.0, offset=room.offset)])["questions"]
    assert (flow["times"], flow["approved"], flow["answered"]) == ([100.0, 102.0], [0, 1], [0, 1])


def test_a_post_moderated_question_is_public_at_once() -> None:
    room = Room()
    room.do(MOD, {"type": "set_moderation", "mode": "post"}, 50.0)
    asked(room, "ann", 100.0)
    assert room.report([])["questions"]["totals"] == {"asked": 1, "approved": 1, "answered": 0}


def test_only_what_happened_in_the_window_counts() -> None:
    room = Room()
    early = asked(room, "ann", 100.0)
    moderate(room, early, "approve", 100.0)
    samples = [sample(150.0, offset=room.offset, connections=9)]
    asked(room, "bob", 300.0)
    samples.append(sample(350.0, offset=room.offset, connections=4))
    later = room.report(samples, report.Window(200.0, 400.0, "day", "x"))
    assert later["questions"]["totals"] == {"asked": 1, "approved": 0, "answered": 0}
    assert later["participation"]["asked"] == 1 and later["top_questions"] == []
    assert later["viewers"]["peak"]["connections"] == 4


def test_viewers_add_up_the_processes_in_each_interval() -> None:
    samples = [sample(0.0, 3, source="a"), sample(10.0, 5, source="a"), sample(12.0, 4, source="b"),
               sample(31.0, 1, source="a")]  # fmt: skip
    seen = report.viewers(samples, report.Window(0.0, 100.0, "day", "x"), interval=30.0)
    assert (seen["times"], seen["connections"], seen["webrtc"]) == ([0.0, 30.0], [9, 1], [4, 2])
    assert seen["peak"] == {"connections": 9, "webrtc": 4, "hls": 6}


def test_participation_moderation_top_questions_and_polls() -> None:
    room = Room()
    first, second, third = (asked(room, who, 100.0 + n, f"Question {n}?") for n, who in enumerate(("ann", "bob", "cy")))
    for question in (first, second, third):
        moderate(room, question, "approve", 110.0)
    room.do(MOD, {"type": "merge_questions", "question_id": first, "duplicate_ids": [third]}, 111.0)
    room.do(MOD, {"type": "edit_question", "question_id": second, "text": "Question two?"}, 112.0)
    for who in ("dee", "eve"):
        room.do(Actor(who), {"type": "upvote", "question_id": second}, 113.0)
    poll = room.do(
        MOD, {"type": "create_poll", "kind": "single_choice", "question": "Tea?", "options": ["Tea", "No"]}, 114.0
    )
    room.do(MOD, {"type": "change_poll", "poll_id": poll.poll.id, "action": "open"}, 115.0)
    for who, choice in (("ann", "Tea"), ("fay", "No"), ("gus", "Tea")):
        room.do(Actor(who), {"type": "vote_poll", "poll_id": poll.poll.id, "choices": [choice]}, 116.0)
    figures = room.report([sample(200.0, offset=room.offset)])
    assert figures["participation"] == {"participants": 7, "asked": 3, "upvoted": 2, "voted": 3, "voted_or_upvoted": 5}
    assert figures["moderation"]["total"] == {"approved": 3, "rejected": 0, "merged": 1, "edited": 1, "answered": 0,
                                              "restored": 0, "moved": 0}  # fmt: skip
    assert [m["moderator"] for m in figures["moderation"]["moderators"]] == ["mod"]
    assert [(q["text"], q["votes"]) for q in figures["top_questions"]] == [("Question two?", 2), ("Question 0?", 0)]
    assert [(p["question"], p["tally"], p["ballots"]) for p in figures["polls"]] == [("Tea?", {"Tea": 2, "No": 1}, 3)]
    assert figures["history_from"] is None


def test_a_log_whose_oldest_events_are_gone_says_where_it_starts() -> None:
    room = Room()
    for n in range(5):
        asked(room, f"p{n}", 100.0 + n)
    room.log = room.log[2:]
    assert room.report([])["history_from"] == 3


def test_windows_are_the_event_days_and_agenda_sessions() -> None:
    day = report.day_window(dt.date(2023, 9, 19), ZONE)
    assert (day.start, day.end - day.start) == (dt.datetime(2023, 9, 19, tzinfo=ZONE).timestamp(), 86400.0)


def test_the_csv_has_one_figure_per_row_and_defuses_formulas() -> None:
    room = Room()
    question = asked(room, "ann", 100.0, "=HYPERLINK(1)")
    moderate(room, question, "approve", 101.0)
    figures = {"rooms": [room.report([sample(120.0, offset=room.offset)])], "timezone": "Asia/Shanghai"}
    text = report.to_csv(figures)
    assert text.startswith("\ufeffroom,section,at,name,value")
    assert "main,top_question,,'=HYPERLINK(1),0" in text
    assert "main,questions_total,,asked,1" in text


# -- served: the sampler wired in, on Redis, admin only -----------------------------------------
async def test_a_server_on_redis_samples_its_viewers_for_the_report(
    start_live: Callable[..., LiveServer], own_redis: RedisServer
) -> None:
    server = start_live(redis_url=own_redis.url, extra=("--sample-interval", "0.2"))
    admin, viewer = Person(server), Person(server)
    assert admin.http.get("/api/rooms/main/report.json").status_code == 403
    admin.login(ADMIN_KEY)
    streams = [await viewer.connect("main") for _ in range(2)]

    def peak() -> int:
        return int(admin.http.get("/api/rooms/main/report.json").json()["rooms"][0]["viewers"]["peak"]["connections"])

    await until(lambda: peak() == 2, timeout=10)
    for stream in streams:
        await stream.close()
    csv_text = admin.http.get("/api/report.csv").text
    assert "main,peak_viewers,,connections,2" in csv_text
    assert admin.http.get("/api/report.json?session=main/nope").json()["error"]["code"] == "invalid"
    session = admin.http.get("/api/report.json?session=main/20230919-0900").json()  # the opening, in the agenda
    assert [room["room"] for room in session["rooms"]] == ["main"]
    start = dt.datetime(2023, 9, 19, 9, 0, tzinfo=ZONE).timestamp()
    assert session["window"] == {"kind": "session", "id": "main/20230919-0900", "start": start, "end": start + 1800}


async def test_video_viewers_webrtc_and_hls_are_sampled(start_live: Callable[..., LiveServer]) -> None:
    """A WHEP viewer and an HLS player (fetching each new segment once, as players do) of the demo
    stream show in the report as one WebRTC viewer and at least one HLS viewer."""
    server = start_live(extra=("--demo", "--sample-interval", "3"))
    admin = Person(server)
    admin.login(ADMIN_KEY)

    def peaks() -> dict[str, int]:
        return dict(admin.http.get("/api/rooms/main/report.json").json()["rooms"][0]["viewers"]["peak"])

    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        watcher = Watcher(f"{server.url}/api/rooms/main/whep")
        assert await watcher.start(client) == 201
        fetched: set[str] = set()

        async def play_hls() -> bool:
            playlist = await client.get("/api/rooms/main/hls/index.m3u8")
            if playlist.status_code == 200:
                for name in [line for line in playlist.text.splitlines() if line and not line.startswith("#")]:
                    if name not in fetched:
                        fetched.add(name)
                        assert (await client.get(f"/api/rooms/main/hls/{name}")).status_code == 200
            seen = peaks()
            return seen["webrtc"] == 1 and seen["hls"] >= 1

        try:
            await until(play_hls, timeout=30, what="a WebRTC viewer and an HLS player in the samples", every=0.5)
        finally:
            await watcher.stop(client)
    assert peaks()["connections"] == 0  # neither opened a page


def test_questions_and_ballots_count_even_once_their_events_are_gone() -> None:
    room = Room()
    question = asked(room, "ann", 100.0)
    moderate(room, question, "approve", 101.0)
    moderate(room, question, "mark_answered", 102.0)
    poll = room.do(
        MOD, {"type": "create_poll", "kind": "single_choice", "question": "Tea?", "options": ["Tea", "No"]}, 103.0
    )
    room.do(MOD, {"type": "change_poll", "poll_id": poll.poll.id, "action": "open"}, 104.0)
    room.do(Actor("bob"), {"type": "vote_poll", "poll_id": poll.poll.id, "choices": ["Tea"]}, 105.0)
    last = room.offset
    room.log = room.log[-1:]  # only the last event is still stored
    figures = room.report([])
    assert figures["questions"]["totals"] == {"asked": 1, "approved": 0, "answered": 1}
    assert figures["participation"]["asked"] == 1 and figures["participation"]["voted"] == 1
    assert figures["history_from"] == last


async def test_the_calendars_last_day_is_a_clear_refusal_not_a_crash(serve_live: Callable[..., LiveServer]) -> None:
    """Its end (the next midnight) is past what a date can hold."""
    server = serve_live()
    day = "9999-12-31"
    admin = Person(server)
    admin.login(ADMIN_KEY)
    for path in (f"/api/report.json?day={day}", f"/api/rooms/main/report.csv?day={day}"):
        refused = admin.http.get(path)
        assert refused.status_code == 400, (path, refused.text)
        assert refused.json()["error"]["code"] == "invalid"
    page = admin.http.get(f"/admin/report?day={day}")
    assert page.status_code == 400 and "is not a day" in page.text


@pytest.mark.parametrize("interval", ["0", "-5", "nan", "inf"])
def test_the_sample_interval_is_a_positive_number_of_seconds(interval: str) -> None:
    """0 would sample in a busy loop (and divide by it); the refusal names the setting."""
    import argparse

    from live.settings import add_arguments, resolve

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--sample-interval", interval])
    with pytest.raises(ValueError, match="seconds"):
        resolve(parser.parse_args([]), environ={"LIVE_SAMPLE_INTERVAL": interval})
    assert resolve(parser.parse_args(["--sample-interval", "0.2"]), environ={}).sample_interval == 0.2
