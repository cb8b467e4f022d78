"""The engine contract: the same suite runs against the embedded engine and the Redis engine."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from live.domain.commands import parse_command
from live.domain.errors import CommandRefused, NotAllowed
from live.domain.roles import Actor, Role
from live.domain.room import RoomSettings, RoomState
from live.engines import batch
from live.engines.batch import CommandResult
from live.engines.engine import SNAPSHOT_EVERY, Engine
from live.engines.redis import RedisStorage
from live.engines.sqlite import SqliteStorage
from live.engines.storage import HISTORY_SIZE, OutcomeUnknown, Position, StorageUnavailable, StoredEvent

from .conftest import RedisServer
from .livetools import until

ROOMS = ("main", "hall-a")
VIEWER = Actor("viewer-1", "Ann")
OTHER_VIEWER = Actor("viewer-2")
MODERATOR = Actor("mod-1", "Mo", frozenset({(Role.MODERATOR, "main"), (Role.MODERATOR, "hall-a")}))

MakeEngine = Callable[..., Awaitable[Engine]]


def initial_states() -> dict[str, RoomState]:
    return {room: RoomState(room, RoomSettings()) for room in ROOMS}


@pytest.fixture(params=["embedded", "redis"])
async def make_engine(
    request: pytest.FixtureRequest, tmp_path: Path, redis_server: RedisServer
) -> AsyncIterator[MakeEngine]:
    """Makes started engines that share one storage, as restarts or sibling processes would."""
    engines: list[Engine] = []
    slug = f"test-{request.node.name}".replace("[", "-").replace("]", "")

    async def make(
        history_size: int = HISTORY_SIZE, snapshot_every: int = SNAPSHOT_EVERY, snapshot_gap_limit: int = 10_000
    ) -> Engine:
        storage: RedisStorage | SqliteStorage
        if request.param == "embedded":
            storage = SqliteStorage(tmp_path / "live.sqlite3", history_size)
        else:
            storage = RedisStorage(redis_server.url, slug, history_size)
        engine = Engine(storage, initial_states(), snapshot_every, snapshot_gap_limit=snapshot_gap_limit)
        await engine.start()
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        await engine.close()


async def run(
    engine: Engine, actor: Actor, command: dict[str, Any], room: str = "main", key: str | None = None
) -> CommandResult:
    return await engine.execute(room, parse_command(command), actor, now=1000.0, key=key)


async def ask_and_approve(engine: Engine, text: str = "How fast can hydrogen scale?") -> str:
    asked = await run(engine, VIEWER, {"type": "ask_question", "text": text})
    assert asked.created_id is not None
    await run(engine, MODERATOR, {"type": "moderate_question", "question_id": asked.created_id, "action": "approve"})
    return asked.created_id


async def test_commands_are_numbered_and_applied(make_engine: MakeEngine) -> None:
    engine = await make_engine()
    question_id = await ask_and_approve(engine)
    position = engine.position("main")
    assert position.offset == 2
    assert engine.state("main").questions[question_id].status == "live"
    assert engine.position("hall-a").offset == 0  # rooms are independent
    history = engine.history("main", Position(position.epoch, 0))
    assert history is not None
    assert [s.offset for s in history] == [1, 2]
    assert [s.event.type for s in history] == ["question_changed", "question_changed"]


async def test_refused_command_changes_nothing(make_engine: MakeEngine) -> None:
    engine = await make_engine()
    question_id = await ask_and_approve(engine)
    before = engine.state("main").to_snapshot()
    with pytest.raises(NotAllowed):
        await run(engine, VIEWER, {"type": "moderate_question", "question_id": question_id, "action": "dismiss"})
    with pytest.raises(CommandRefused):
        await run(engine, VIEWER, {"type": "ask_question", "text": "   "})
    with pytest.raises(CommandRefused):
        await run(engine, MODERATOR, {"type": "moderate_question", "question_id": "nope", "action": "approve"})
    assert engine.position("main").offset == 2
    assert engine.state("main").to_snapshot() == before


async def test_listeners_receive_every_event_in_order(make_engine: MakeEngine) -> None:
    engine = await make_engine()
    seen: list[tuple[str, int]] = []
    engine.listen(lambda room, stored: seen.append((room, stored.offset)))
    await ask_and_approve(engine)
    await run(engine, VIEWER, {"type": "ask_question", "text": "in the other room"}, room="hall-a")
    assert seen == [("main", 1), ("main", 2), ("hall-a", 1)]


async def test_history_resumes_exactly_or_says_it_cannot(make_engine: MakeEngine) -> None:
    engine = await make_engine()
    for n in range(5):
        await run(engine, VIEWER, {"type": "ask_question", "text": f"question {n}"})
    epoch = engine.position("main").epoch
    missed = engine.history("main", Position(epoch, 2))
    assert missed is not None and [s.offset for s in missed] == [3, 4, 5]
    assert engine.history("main", Position(epoch, 5)) == []
    assert engine.history("main", Position("another-epoch", 2)) is None
    assert engine.history("main", Position(epoch, 99)) is None  # from the future: reload


async def test_history_too_old_asks_for_reload(make_engine: MakeEngine) -> None:
    engine = await make_engine(history_size=3)
    for n in range(6):
        await run(engine, VIEWER, {"type": "ask_question", "text": f"question {n}"})
    epoch = engine.position("main").epoch
    assert engine.history("main", Position(epoch, 1)) is None
    kept = engine.history("main", Position(epoch, 3))
    assert kept is not None and [s.offset for s in kept] == [4, 5, 6]


async def test_restart_keeps_everything_accepted(make_engine: MakeEngine) -> None:
    engine = await make_engine()
    question_id = await ask_and_approve(engine)
    await run(engine, OTHER_VIEWER, {"type": "upvote", "question_id": question_id})
    poll = await run(
        engine, MODERATOR, {"type": "create_poll", "kind": "single_choice", "question": "Which?", "options": ["A", "B"]}
    )
    await run(engine, MODERATOR, {"type": "change_poll", "poll_id": poll.created_id, "action": "open"})
    await run(engine, VIEWER, {"type": "vote_poll", "poll_id": poll.created_id, "choices": ["B"]})
    before, position = engine.state("main").to_snapshot(), engine.position("main")
    await engine.close()

    restarted = await make_engine()
    assert restarted.state("main").to_snapshot() == before
    assert restarted.position("main") == position
    assert restarted.state("main").poll_tally(poll.created_id or "") == {"A": 0, "B": 1}
    resumed = restarted.history("main", Position(position.epoch, 1))
    assert resumed is not None and len(resumed) == position.offset - 1


async def test_snapshots_bound_the_log_and_rebuild_the_room(make_engine: MakeEngine) -> None:
    engine = await make_engine(history_size=3, snapshot_every=4)
    question_id = await ask_and_approve(engine)
    voters = [Actor(f"voter-{n}") for n in range(11)]
    for voter in voters:
        await run(engine, voter, {"type": "upvote", "question_id": question_id})
    before = engine.state("main").to_snapshot()
    await engine.close()
    restarted = await make_engine()
    assert restarted.state("main").to_snapshot() == before
    assert restarted.state("main").questions[question_id].votes == 11
    assert restarted.position("main").offset == 13


def count_snapshots(engine: Engine, fail: list[bool] | None = None) -> list[int]:
    """The offsets of the snapshots the engine asks its storage for; ``fail``: answers False
    (not stored) for each True popped from it first."""
    saved: list[int] = []
    save = engine.storage.save_snapshot

    async def counting(room_id: str, epoch: str, offset: int, snapshot: dict[str, Any]) -> bool:
        saved.append(offset)
        if fail and fail.pop(0):
            return False
        return await save(room_id, epoch, offset, snapshot)

    engine.storage.save_snapshot = counting  # type: ignore[method-assign]
    return saved


async def test_a_growing_room_is_snapshotted_as_often_as_its_size_allows(make_engine: MakeEngine) -> None:
    """Snapshots every 4 events while the room is small, then only once as many events as it
    holds items have passed: 100 upvotes make 5 snapshots, not 25 (each costs the whole room);
    a restart still rebuilds the room exactly from the last one and the events after it."""
    engine = await make_engine(history_size=3, snapshot_every=4)
    saved = count_snapshots(engine)
    question_id = await ask_and_approve(engine)
    for n in range(100):
        await run(engine, Actor(f"voter-{n}"), {"type": "upvote", "question_id": question_id})
    assert saved[0] == 4  # the fixed interval while the room is small
    assert len(saved) <= 7, saved
    assert all(later - earlier >= 4 for earlier, later in itertools.pairwise(saved))
    before = engine.state("main").to_snapshot()
    await engine.close()
    restarted = await make_engine()
    assert restarted.state("main").to_snapshot() == before
    assert restarted.state("main").questions[question_id].votes == 100


async def test_snapshots_are_never_further_apart_than_the_gap_limit(make_engine: MakeEngine) -> None:
    """However big the room, the log after the last snapshot (what Redis keeps in memory, what a
    restart replays) stays bounded: with a limit of 20 events, 100 upvotes make a snapshot at
    least every 20 events once the room holds more items than that."""
    engine = await make_engine(history_size=3, snapshot_every=4, snapshot_gap_limit=20)
    saved = count_snapshots(engine)
    question_id = await ask_and_approve(engine)
    for n in range(100):
        await run(engine, Actor(f"voter-{n}"), {"type": "upvote", "question_id": question_id})
    assert saved[:3] == [4, 8, 15]  # doubling while the room is smaller than the limit
    assert all(later - earlier <= 20 for earlier, later in itertools.pairwise(saved)), saved
    assert engine.position("main").offset - saved[-1] <= 20
    before = engine.state("main").to_snapshot()
    await engine.close()
    restarted = await make_engine()
    assert restarted.state("main").to_snapshot() == before


async def test_a_snapshot_that_could_not_be_stored_is_tried_again_soon(make_engine: MakeEngine) -> None:
    """Not a whole (long) interval later: the log after the last stored snapshot would grow."""
    engine = await make_engine(history_size=3, snapshot_every=4)
    fail = [False, False, False, False, False, True]  # the sixth is refused
    saved = count_snapshots(engine, fail)
    question_id = await ask_and_approve(engine)
    for n in range(120):
        await run(engine, Actor(f"voter-{n}"), {"type": "upvote", "question_id": question_id})
    assert saved == [4, 8, 15, 29, 57, 113, 117]  # refused at 113, stored at 117, nothing since
    before = engine.state("main").to_snapshot()
    await engine.close()
    assert (await make_engine()).state("main").to_snapshot() == before


@pytest.mark.parametrize("make_engine", ["redis"], indirect=True)
async def test_a_snapshot_another_process_took_is_not_taken_again(make_engine: MakeEngine) -> None:
    first, second = await make_engine(snapshot_every=4), await make_engine(snapshot_every=4)
    by_first, by_second = count_snapshots(first), count_snapshots(second)
    question_id = await ask_and_approve(first)
    for n in range(2):
        await run(first, Actor(f"voter-{n}"), {"type": "upvote", "question_id": question_id})
    await until(lambda: by_first == [4], timeout=5, what="the first process's snapshot (after its answer)")
    await until(lambda: second.position("main").offset == 4, timeout=5, what="the second process to catch up")
    await run(second, Actor("voter-late"), {"type": "upvote", "question_id": question_id})
    # the room's batches are decided one after another, each after the last one's snapshot check:
    # once this second write is answered, the check after the first (at offset 5) is done
    await run(second, Actor("voter-later"), {"type": "upvote", "question_id": question_id})
    assert by_second == []  # due at 5 by its own count, but the first took one at 4


async def test_decisions_and_replay_agree(make_engine: MakeEngine) -> None:
    """A replica built from the events alone equals the state the commands produced."""
    engine = await make_engine()
    question_id = await ask_and_approve(engine)
    await run(engine, MODERATOR, {"type": "edit_question", "question_id": question_id, "text": "Edited"})
    await run(engine, MODERATOR, {"type": "highlight_question", "question_id": question_id})
    await run(engine, VIEWER, {"type": "upvote", "question_id": question_id})
    await run(engine, VIEWER, {"type": "upvote", "question_id": question_id, "voted": False})
    await run(engine, MODERATOR, {"type": "moderate_question", "question_id": question_id, "action": "mark_answered"})
    history = engine.history("main", Position(engine.position("main").epoch, 0))
    assert history is not None
    replayed = RoomState("main", RoomSettings())
    from live.domain.evolve import evolve

    for stored in history:
        evolve(replayed, StoredEvent.from_payload(stored.payload).event)
    assert replayed.to_snapshot() == engine.state("main").to_snapshot()
    assert replayed.settings.answering_question_id is None  # answering cleared when answered


@pytest.mark.parametrize("make_engine", ["redis"], indirect=True)
async def test_processes_sharing_redis_see_each_others_changes(make_engine: MakeEngine) -> None:
    first, second = await make_engine(), await make_engine()
    received: list[int] = []
    second.listen(lambda room, stored: received.append(stored.offset))
    question_id = await ask_and_approve(first)
    await until(lambda: second.position("main").offset == 2, timeout=5, what="the second process to catch up")
    assert second.state("main").questions[question_id].status == "live"
    assert received == [1, 2]


@pytest.mark.parametrize("make_engine", ["redis"], indirect=True)
async def test_concurrent_writers_on_one_room_lose_nothing(make_engine: MakeEngine) -> None:
    first, second = await make_engine(), await make_engine()
    question_id = await ask_and_approve(first)
    await until(lambda: second.position("main") == first.position("main"), timeout=5, what="the second to catch up")
    voters = [Actor(f"voter-{n}") for n in range(80)]
    await asyncio.gather(
        *(
            run(first if n % 2 else second, voter, {"type": "upvote", "question_id": question_id})
            for n, voter in enumerate(voters)
        )
    )
    await until(lambda: first.position("main") == second.position("main"), timeout=5, what="both to agree")
    assert first.state("main").questions[question_id].votes == 80
    assert first.state("main").to_snapshot() == second.state("main").to_snapshot()
    assert first.position("main").offset == 82


@pytest.mark.parametrize("make_engine", ["redis"], indirect=True)
async def test_restart_of_redis_with_append_only_keeps_data(make_engine: MakeEngine, own_redis: RedisServer) -> None:
    engine = Engine(RedisStorage(own_redis.url, "restart"), initial_states(), deadline=1.0)
    await engine.start()
    question_id = await ask_and_approve(engine)
    before = engine.state("main").to_snapshot()
    own_redis.stop()
    # Sent on a pooled connection that Redis closed: whether Redis read it first cannot be known.
    with pytest.raises((StorageUnavailable, OutcomeUnknown)):
        await run(engine, VIEWER, {"type": "upvote", "question_id": question_id})
    own_redis.start()
    for _ in range(200):  # the write is sent again until Redis answers; then it is applied, once
        if engine.position("main").offset == 3:
            break
        await asyncio.sleep(0.05)
    assert engine.position("main").offset == 3
    await run(engine, VIEWER, {"type": "upvote", "question_id": question_id})  # the same process carries on
    await engine.close()
    fresh = Engine(RedisStorage(own_redis.url, "restart"), initial_states())
    await fresh.start()
    try:
        assert fresh.state("main").questions[question_id].votes == 1
        assert {**before["questions"][0], "votes": 1} == fresh.state("main").to_snapshot()["questions"][0]
        assert fresh.position("main").offset == 3
    finally:
        await fresh.close()


@pytest.mark.parametrize("make_engine", ["redis"], indirect=True)
async def test_a_lost_reply_does_not_record_a_command_twice(
    make_engine: MakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    engine = await make_engine()
    storage = engine.storage
    assert isinstance(storage, RedisStorage)
    script = storage._append_script
    calls = 0

    async def commit_then_lose_the_reply(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        result = await script(*args, **kwargs)
        if calls == 1:
            raise RedisConnectionError("the reply was lost")
        return result

    monkeypatch.setattr(storage, "_append_script", commit_then_lose_the_reply)
    asked = await run(engine, VIEWER, {"type": "ask_question", "text": "Only once, please"})
    assert calls == 2
    assert [q.text for q in engine.state("main").questions.values()] == ["Only once, please"]
    assert engine.position("main").offset == 1 and asked.events[0].offset == 1


def test_ids_are_plain_letters_and_digits() -> None:
    """An id that began with "-" was quoted in CSV exports (a formula guard) and no longer matched."""
    ids = {batch.new_id() for _ in range(5000)}
    assert len(ids) == 5000
    assert all(len(i) == 16 and i.isascii() and i.isalnum() for i in ids)


async def test_concurrent_commands_share_storage_writes(make_engine: MakeEngine) -> None:
    """Group commit: commands arriving while a write is in flight are stored together, each
    decided on the state the ones before it left (a vote storm is one write per batch)."""
    engine = await make_engine()
    question_id = await ask_and_approve(engine)
    writes: list[int] = []
    append = engine.storage.append

    async def counting_append(room_id: str, events: list[StoredEvent]) -> None:
        writes.append(len(events))
        await append(room_id, events)

    engine.storage.append = counting_append  # type: ignore[method-assign]
    voters = [Actor(f"voter-{n}") for n in range(60)]
    results = await asyncio.gather(
        *(run(engine, voter, {"type": "upvote", "question_id": question_id}) for voter in voters),
        # the same person taps three times: on, off, on, decided in the order they arrived
        *(
            run(engine, OTHER_VIEWER, {"type": "upvote", "question_id": question_id, "voted": voted})
            for voted in (True, False, True)
        ),
    )
    assert sum(writes) == 63 and len(writes) < 63 / 2
    assert engine.state("main").questions[question_id].votes == 61
    assert [r.events[0].offset for r in results] == list(range(3, 66))  # each caller gets its own event
    assert [r.events[0].event.votes for r in results[-3:]] == [61, 60, 61]  # type: ignore[union-attr]


async def test_a_refused_command_does_not_fail_its_batch(make_engine: MakeEngine) -> None:
    engine = await make_engine()
    question_id = await ask_and_approve(engine)
    before = engine.position("main").offset
    outcomes = await asyncio.gather(
        run(engine, VIEWER, {"type": "upvote", "question_id": question_id}),
        run(engine, VIEWER, {"type": "moderate_question", "question_id": question_id, "action": "dismiss"}),
        run(engine, MODERATOR, {"type": "moderate_question", "question_id": "nope", "action": "approve"}),
        run(engine, OTHER_VIEWER, {"type": "upvote", "question_id": question_id}),
        return_exceptions=True,
    )
    assert [type(o).__name__ for o in outcomes] == ["CommandResult", "NotAllowed", "NotFound", "CommandResult"]
    assert engine.position("main").offset == before + 2
    assert engine.state("main").questions[question_id].votes == 2


async def test_a_caller_that_gives_up_leaves_the_others_answered(make_engine: MakeEngine) -> None:
    """A client that goes away mid-command must not strand the commands batched with its own."""
    engine = await make_engine()
    question_id = await ask_and_approve(engine)
    voters = [Actor(f"voter-{n}") for n in range(20)]
    tasks = [
        asyncio.create_task(run(engine, voter, {"type": "upvote", "question_id": question_id})) for voter in voters
    ]
    await asyncio.sleep(0)  # all are waiting now
    tasks[0].cancel()
    tasks[7].cancel()
    done = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=10)
    assert sum(isinstance(d, CommandResult) for d in done) == 18
    # the two that gave up were already handed over: they count, exactly once each
    await until(lambda: engine.state("main").questions[question_id].votes == 20, timeout=5, what="20 votes")
    assert engine.state("main").questions[question_id].votes == 20


async def test_a_command_whose_event_cannot_be_stored_fails_alone(make_engine: MakeEngine) -> None:
    """A lone surrogate (JSON's "\\ud800") in a name: no UTF-8 encoder takes it. The cleaning of
    text removes it; should anything like it reach storage, only its own command fails."""
    engine = await make_engine()
    question_id = await ask_and_approve(engine)
    broken = Actor("broken", "x\ud800y")
    voters = [Actor(f"voter-{n}") for n in range(5)]
    outcomes = await asyncio.gather(
        *(run(engine, voter, {"type": "upvote", "question_id": question_id}) for voter in voters[:3]),
        run(engine, broken, {"type": "ask_question", "text": "Who am I?"}),
        *(run(engine, voter, {"type": "upvote", "question_id": question_id}) for voter in voters[3:]),
        return_exceptions=True,
    )
    stored = isinstance(outcomes[3], CommandResult)  # the event's JSON encoder (pydantic's) refuses it
    assert engine.name == "embedded" or not stored  # the Redis engine never stored it
    assert [isinstance(o, CommandResult) for i, o in enumerate(outcomes) if i != 3] == [True] * 5
    assert engine.state("main").questions[question_id].votes == 5
    assert len(engine.state("main").questions) == 1 + stored


async def test_closing_refuses_what_was_not_stored(make_engine: MakeEngine) -> None:
    engine = await make_engine()
    question_id = await ask_and_approve(engine)
    tasks = [
        asyncio.create_task(run(engine, Actor(f"voter-{n}"), {"type": "upvote", "question_id": question_id}))
        for n in range(10)
    ]
    await asyncio.sleep(0)
    await engine.close()
    outcomes = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=10)
    assert all(isinstance(o, CommandResult | StorageUnavailable) for o in outcomes)
    with pytest.raises(StorageUnavailable):
        await run(engine, VIEWER, {"type": "ask_question", "text": "after closing"})


@pytest.mark.parametrize("make_engine", ["redis"], indirect=True)
async def test_an_unreadable_or_old_style_message_keeps_the_subscription(make_engine: MakeEngine) -> None:
    first, second = await make_engine(), await make_engine()
    storage = first.storage
    assert isinstance(storage, RedisStorage)
    channel = storage._channel("main")
    await storage._redis.publish(channel, "not an event at all")
    question_id = await ask_and_approve(first)
    # a process from before batching publishes one bare event per message
    bare = json.dumps({"epoch": first.position("main").epoch, "offset": 3, "event": {"type": "nonsense"}})
    await storage._redis.publish(channel, bare)
    await run(first, OTHER_VIEWER, {"type": "upvote", "question_id": question_id})
    await until(lambda: second.position("main").offset == 3, timeout=5, what="the second to catch up")
    assert second.position("main").offset == 3
    assert second.state("main").questions[question_id].votes == 1
    assert isinstance(second.storage, RedisStorage)
    assert second.storage._following is not None and not second.storage._following.done()


@pytest.mark.parametrize("make_engine", ["redis"], indirect=True)
async def test_redis_refusing_writes_is_a_clear_storage_error(make_engine: MakeEngine) -> None:
    """Redis out of memory (or a read-only replica) answers with an error, not a lost connection."""
    engine = await make_engine()
    storage = engine.storage
    assert isinstance(storage, RedisStorage)
    await storage._redis.config_set("maxmemory", "1")  # every write is now refused: OOM
    try:
        with pytest.raises(StorageUnavailable, match="refused"):
            await run(engine, VIEWER, {"type": "ask_question", "text": "Is anyone there?"})
    finally:
        await storage._redis.config_set("maxmemory", "0")
    assert engine.position("main").offset == 0
    await ask_and_approve(engine)  # and it recovers with Redis


async def test_the_storage_reads_back_what_the_engine_stored(make_engine: MakeEngine) -> None:
    engine = await make_engine()
    await ask_and_approve(engine)
    history = engine.history("main", Position(engine.position("main").epoch, 0))
    assert await engine.storage.read_after("main", 0, 10) == history
    assert [s.offset for s in await engine.storage.read_after("main", 1, 10)] == [2]
    assert await engine.storage.read_after("hall-a", 0, 10) == []


@pytest.mark.parametrize("make_engine", ["redis"], indirect=True)
async def test_redis_keeps_the_payloads_as_python_encoded_them(make_engine: MakeEngine) -> None:
    """The Lua script only checks the offset, adds and publishes: the stream holds the payloads."""
    engine = await make_engine()
    await ask_and_approve(engine)
    storage = engine.storage
    assert isinstance(storage, RedisStorage)
    entries = await storage._redis.xrange(storage._key("main", "events"))
    history = engine.history("main", Position(engine.position("main").epoch, 0))
    assert history is not None
    assert [(entry_id, fields["p"]) for entry_id, fields in entries] == [(f"{s.offset}-0", s.payload) for s in history]


def test_payloads_in_the_earlier_embedded_encoding_still_load() -> None:
    """SQLite files written before the one encoding hold json.dumps of the whole envelope, and
    data stored before idempotency keys has no key."""
    stored = StoredEvent.from_payload(
        '{"epoch": "e", "offset": 1, "event": {"type": "question_voted", "question_id": "q", '
        '"participant_id": "\\u00fc", "voted": true, "votes": 1}}'
    )
    assert (stored.epoch, stored.offset, stored.event.type, stored.key) == ("e", 1, "question_voted", None)
    assert StoredEvent.from_payload(stored.payload) == stored
    keyed = StoredEvent("e", 2, stored.event, "p/upvote/k-1")
    assert json.loads(keyed.payload)["key"] == "p/upvote/k-1"
    assert StoredEvent.from_payload(keyed.payload) == keyed


# -- idempotency keys: the same contract on both engines --------------------------------------------
ASK = {"type": "ask_question", "text": "Asked once, whatever the retries?"}


async def test_a_key_the_room_applied_is_answered_with_its_outcome(make_engine: MakeEngine) -> None:
    engine = await make_engine()
    first = await run(engine, VIEWER, ASK, key="viewer-1/ask_question/k1")
    again = await run(engine, VIEWER, ASK, key="viewer-1/ask_question/k1")
    assert again.created_id == first.created_id and again.replayed and not first.replayed
    assert [s.offset for s in again.events] == [s.offset for s in first.events] == [1]
    assert engine.position("main").offset == 1 and len(engine.state("main").questions) == 1
    other = await run(engine, VIEWER, ASK, key="viewer-1/ask_question/k2")  # another key: another command
    assert other.created_id != first.created_id and engine.position("main").offset == 2


async def test_keys_hold_across_restarts_and_processes(make_engine: MakeEngine) -> None:
    engine = await make_engine()
    first = await run(engine, VIEWER, ASK, key="viewer-1/ask_question/k1")
    await run(engine, VIEWER, {"type": "ask_question", "text": "without a key"})
    if engine.name == "embedded":
        await engine.close()  # one process owns the file: a restart
    other = await make_engine()  # Redis: a second process, or this one restarted
    again = await run(other, VIEWER, ASK, key="viewer-1/ask_question/k1")
    assert again.created_id == first.created_id and again.replayed
    assert other.position("main").offset == 2 and len(other.state("main").questions) == 2


async def test_a_key_sent_twice_in_one_batch_is_applied_once(make_engine: MakeEngine) -> None:
    engine = await make_engine()
    await run(engine, VIEWER, {"type": "ask_question", "text": "opening"})
    results = await asyncio.gather(
        *(run(engine, VIEWER, ASK, key="viewer-1/ask_question/same") for _ in range(3)),
        run(engine, OTHER_VIEWER, {"type": "ask_question", "text": "Between the retries"}),
    )
    assert len({r.created_id for r in results[:3]}) == 1
    assert engine.position("main").offset == 3 and len(engine.state("main").questions) == 3


async def test_a_refused_command_is_decided_again_on_retry(make_engine: MakeEngine) -> None:
    """Refusals are not remembered: a retry of a refused command is decided on the state it finds."""
    engine = await make_engine()
    asked = await run(engine, VIEWER, {"type": "ask_question", "text": "Pending first"})
    upvote = {"type": "upvote", "question_id": asked.created_id}
    with pytest.raises(CommandRefused):  # awaiting moderation: not public yet
        await run(engine, OTHER_VIEWER, upvote, key="viewer-2/upvote/u1")
    await run(engine, MODERATOR, {"type": "moderate_question", "question_id": asked.created_id, "action": "approve"})
    voted = await run(engine, OTHER_VIEWER, upvote, key="viewer-2/upvote/u1")
    assert voted.events and not voted.replayed
    assert engine.state("main").questions[asked.created_id or ""].votes == 1


async def test_keys_are_kept_as_long_as_the_history(make_engine: MakeEngine) -> None:
    """The documented bound: a key is known while its command's first event is one of the room's
    last ``history_size`` events, in this process, after a restart and in any other process."""
    engine = await make_engine(history_size=3)
    first = await run(engine, VIEWER, ASK, key="viewer-1/ask_question/old")
    for n in range(2):
        await run(engine, OTHER_VIEWER, {"type": "ask_question", "text": f"later {n}"})
    kept = await run(engine, VIEWER, ASK, key="viewer-1/ask_question/old")
    assert kept.replayed and kept.created_id == first.created_id  # offsets 1..3: still in the history
    await run(engine, OTHER_VIEWER, {"type": "ask_question", "text": "one too many"})
    forgotten = await run(engine, VIEWER, ASK, key="viewer-1/ask_question/old")
    assert not forgotten.replayed and forgotten.created_id != first.created_id

