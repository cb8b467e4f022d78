"""The Redis engine: rooms live in Redis, and any number of server processes share them.

Each process keeps a replica of every room, follows it through pub/sub, and decides commands on
it. One Lua script per command (or per batch of commands that arrived together, see base.py)
makes the change atomically: it checks that the replica was current (same epoch and offset, else
the process catches up and decides again), assigns the next offsets, appends to the room's capped
history stream and publishes. The stream is never trimmed
past the room's last snapshot, so snapshot + stream always rebuild the room; with append-only
files on, a Redis restart loses nothing.

Keys, for event E and room R: ``live:E:R:epoch``, ``:offset``, ``:events`` (stream, ids are
``offset-0``), ``:snapshot`` (JSON with its offset). Channel: ``live:E:events:R``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..domain.events import Event
from ..domain.room import RoomState
from .base import HISTORY_SIZE, Engine, Replica, StaleReplica, StorageUnavailable, StoredEvent, new_epoch

log = logging.getLogger(__name__)

# KEYS: epoch, offset, events, snapshot-offset   ARGV: epoch, expected offset, history size, channel, events...
# One message per command batch on the channel: a line "EPOCH LAST-OFFSET", then one stored event
# per line (JSON has no raw newlines), so a process can skip its own writes without parsing them.
APPEND_SCRIPT = """
local epoch = redis.call('GET', KEYS[1])
if epoch ~= ARGV[1] then return {'epoch', epoch or ''} end
local offset = tonumber(redis.call('GET', KEYS[2]) or '0')
if offset ~= tonumber(ARGV[2]) then return {'stale', tostring(offset)} end
local keep = tonumber(ARGV[3])
local snapshot_offset = tonumber(redis.call('GET', KEYS[4]) or '0')
local lines = {}
for i = 5, #ARGV do
  offset = offset + 1
  local payload = '{"epoch": "' .. epoch .. '", "offset": ' .. offset .. ', "event": ' .. ARGV[i] .. '}'
  redis.call('XADD', KEYS[3], offset .. '-0', 'p', payload)
  lines[#lines + 1] = payload
end
redis.call('PUBLISH', ARGV[4], epoch .. ' ' .. offset .. '\\n' .. table.concat(lines, '\\n'))
redis.call('SET', KEYS[2], offset)
local oldest = math.min(snapshot_offset + 1, offset - keep + 1)
if oldest > 1 then redis.call('XTRIM', KEYS[3], 'MINID', '~', oldest .. '-0') end
return {'ok', tostring(offset)}
"""

# KEYS: epoch, snapshot, snapshot-offset   ARGV: epoch, offset, snapshot
SNAPSHOT_SCRIPT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(redis.call('GET', KEYS[3]) or '0') >= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SET', KEYS[3], ARGV[2])
return 1
"""


APPEND_ATTEMPTS = 3  # tries of one append when the connection fails


class RedisEngine(Engine):
    name = "redis"

    def __init__(self, initial_states: dict[str, RoomState], url: str, event_slug: str) -> None:
        super().__init__(initial_states)
        self._url = url
        self._prefix = f"live:{event_slug}"
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url, decode_responses=True, health_check_interval=10, socket_connect_timeout=5, socket_timeout=10
        )
        self._append_script = self._redis.register_script(APPEND_SCRIPT)
        self._snapshot_script = self._redis.register_script(SNAPSHOT_SCRIPT)
        self._listener: asyncio.Task[None] | None = None
        self._catching_up: dict[str, asyncio.Task[None]] = {}
        self._needs_catch_up: set[str] = set()
        self._subscribed = asyncio.Event()

    def _key(self, room_id: str, name: str) -> str:
        return f"{self._prefix}:{room_id}:{name}"

    def _channel(self, room_id: str) -> str:
        return f"{self._prefix}:events:{room_id}"

    async def start(self) -> None:
        for room_id, initial in self._initial_states.items():
            await self._load(room_id, initial)
        self._listener = asyncio.create_task(self._follow(), name="redis-follow")
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)
        for room_id in self._replicas:  # whatever was written between loading and subscribing
            await self._catch_up(room_id)

    async def _load(self, room_id: str, initial: RoomState) -> None:
        await self._redis.set(self._key(room_id, "epoch"), new_epoch(), nx=True)
        epoch = str(await self._redis.get(self._key(room_id, "epoch")))
        replica = self._replicas[room_id] = Replica(state=initial, epoch=epoch)
        raw = await self._redis.get(self._key(room_id, "snapshot"))
        if raw is not None:
            snapshot = json.loads(raw)
            if snapshot["epoch"] == epoch:
                replica.state = RoomState.from_snapshot(snapshot["state"])
                replica.offset = replica.snapshot_offset = snapshot["offset"]
        recent: list[tuple[str, dict[str, str]]] = await self._redis.xrevrange(  # type: ignore[assignment]
            self._key(room_id, "events"), count=HISTORY_SIZE
        )
        for _, fields in reversed(recent):
            stored = StoredEvent.from_payload(fields["p"])
            if stored.offset <= replica.offset:
                replica.history.append(stored)
        await self._catch_up(room_id)

    async def close(self) -> None:
        await self._stop_committers()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        for task in self._catching_up.values():
            task.cancel()
        await self._redis.aclose()

    async def health(self) -> dict[str, Any]:
        try:
            reachable = bool(await asyncio.wait_for(self._redis.ping(), timeout=2))
        except (RedisError, OSError, TimeoutError):
            reachable = False
        return {"engine": self.name, "redis": self._url.split("@")[-1], "redis_reachable": reachable, "ok": reachable}

    async def _append(self, room_id: str, replica: Replica, events: list[Event]) -> list[StoredEvent]:
        keys = [self._key(room_id, n) for n in ("epoch", "offset", "events", "snapshot_offset")]
        bodies = [event.model_dump_json() for event in events]
        epoch, expected = replica.epoch, replica.offset  # the replica may move on while we wait
        args: list[str | int] = [epoch, expected, HISTORY_SIZE, self._channel(room_id), *bodies]
        retried = False
        try:
            for attempt in range(APPEND_ATTEMPTS):
                try:
                    status, value = await self._append_script(keys=keys, args=args)
                    break
                except (RedisConnectionError, RedisTimeoutError):
                    # After a Redis restart pooled connections are dead (each fails once and is
                    # replaced); or the reply was lost after the script ran: checked below.
                    if attempt == APPEND_ATTEMPTS - 1:
                        raise
                    retried = True
            if status == "stale" and retried and await self._already_appended(room_id, expected, bodies):
                status = "ok"  # the first attempt ran, only its reply was lost: do not decide it again
        except (RedisConnectionError, RedisTimeoutError, OSError) as error:
            raise StorageUnavailable("Redis cannot be reached; the command was not applied") from error
        except RedisError as error:  # e.g. out of memory, or a read-only replica: nothing was written
            log.error("room %s: Redis refused the write: %s", room_id, error)
            raise StorageUnavailable("Redis refused the write; the command was not applied") from error
        if status == "stale":
            raise StaleReplica(value)
        if status == "epoch":
            raise StorageUnavailable(f"room {room_id} lost its history in Redis (epoch {value!r}); restart the server")
        return [StoredEvent(epoch, expected + i, e) for i, e in enumerate(events, start=1)]

    async def _already_appended(self, room_id: str, expected: int, bodies: list[str]) -> bool:
        """Whether the events right after ``expected`` are these very ones: events carry the state
        they set (and new things fresh ids), so equal events mean the change is already made."""
        entries: list[tuple[str, dict[str, str]]] = await self._redis.xrange(  # type: ignore[assignment]
            self._key(room_id, "events"), min=f"({expected}-0", count=len(bodies)
        )
        found = [json.loads(fields["p"])["event"] for _, fields in entries]
        return found == [json.loads(body) for body in bodies]

    async def _catch_up(self, room_id: str) -> None:
        replica = self._replicas[room_id]
        while True:
            entries: list[tuple[str, dict[str, str]]] = await self._redis.xrange(  # type: ignore[assignment]
                self._key(room_id, "events"), min=f"({replica.offset}-0", count=1000
            )
            if not entries:
                return
            if not self._advance(room_id, (StoredEvent.from_payload(fields["p"]) for _, fields in entries)):
                log.error("room %s: history stream has a gap after offset %d", room_id, replica.offset)
                return

    def _on_message(self, room_id: str, message: str) -> None:
        replica = self._replicas.get(room_id)
        if replica is None:
            return
        header, _, lines = message.partition("\n")
        epoch, _, last = header.partition(" ")
        if epoch == replica.epoch and last.isdigit() and int(last) <= replica.offset:
            return  # already applied: this process's own write, echoed back
        stored = [StoredEvent.from_payload(line) for line in lines.split("\n")]
        if not self._advance(room_id, stored):
            self._request_catch_up(room_id)

    def _request_catch_up(self, room_id: str) -> None:
        """Catch up in the background; requests made while one runs make it run again."""
        self._needs_catch_up.add(room_id)
        if room_id in self._catching_up:
            return

        async def run() -> None:
            try:
                while room_id in self._needs_catch_up:
                    self._needs_catch_up.discard(room_id)
                    await self._catch_up(room_id)
            except (RedisError, OSError):
                log.warning("room %s: catch-up failed; will retry on the next event", room_id)
            finally:
                self._catching_up.pop(room_id, None)

        self._catching_up[room_id] = asyncio.create_task(run())

    async def _follow(self) -> None:
        """Follow every room's channel; after a lost connection, resubscribe and catch up."""
        pattern = f"{self._prefix}:events:*"
        prefix_length = len(pattern) - 1
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(pattern)
                if self._subscribed.is_set():
                    for room_id in self._replicas:
                        self._request_catch_up(room_id)
                self._subscribed.set()
                while True:
                    # A bounded wait, not listen(): an idle room must not look like a dead socket.
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "pmessage":
                        room_id = message["channel"][prefix_length:]
                        try:
                            self._on_message(room_id, message["data"])
                        except Exception:  # one unreadable message must not end the subscription
                            log.exception("room %s: unreadable event message; catching up", room_id)
                            self._request_catch_up(room_id)
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except (RedisError, OSError) as error:
                log.warning("lost the Redis subscription (%s); reconnecting", error)
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                # Redis went away: every pooled connection is dead too. Drop them all so the next
                # command connects afresh instead of failing once per stale connection.
                with contextlib.suppress(Exception):
                    await self._redis.connection_pool.disconnect()
                await asyncio.sleep(0.5)

    async def _save_snapshot(self, room_id: str, replica: Replica, snapshot: dict[str, Any]) -> None:
        document = json.dumps({"epoch": replica.epoch, "offset": replica.offset, "state": snapshot})
        keys = [self._key(room_id, n) for n in ("epoch", "snapshot", "snapshot_offset")]
        try:
            await self._snapshot_script(keys=keys, args=[replica.epoch, replica.offset, document])
        except (RedisError, OSError):
            log.warning("room %s: snapshot at %d not saved; the stream still holds the events", room_id, replica.offset)
