"""The Redis engine's storage: rooms live in Redis, and any number of server processes share them.

Each process keeps a replica of every room (engine.py), follows it through pub/sub, and decides
commands on it. One Lua script per batch of commands makes the change atomically: it checks that
the replica was current (same epoch and offset, else the process catches up and decides again),
appends the already encoded events to the room's capped history stream and publishes them. The
stream is never trimmed past the room's last snapshot, so snapshot + stream always rebuild the
room; with append-only files on, a Redis restart loses nothing.

A write whose reply does not come is never called "not applied": the script may have run, or may
run when Redis reads it. The same script is sent again until Redis answers; its offset check makes
that safe (a second run finds the offset moved and says "stale", and the events found there are
compared with ours). Meanwhile the engine refuses the room's new commands (engine.py). Only a
write that failed while connecting, before anything was sent, is certainly not applied.

Keys, for event E and room R: ``live:E:R:epoch``, ``:offset``, ``:events`` (stream, ids are
``offset-0``, field ``p`` holds ``StoredEvent.payload``), ``:snapshot`` (JSON with its epoch and
offset), ``:snapshot_offset``; ``live:E:revoked:LOGIN`` marks a login ended by logging out (it
expires with the session cookie). Channel: ``live:E:events:R``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .storage import (
    HISTORY_SIZE,
    Follower,
    OutcomeUnknown,
    StaleReplica,
    Storage,
    StorageUnavailable,
    StoredEvent,
    StoredRoom,
    new_epoch,
)

log = logging.getLogger(__name__)

# KEYS: epoch, offset, events, snapshot-offset   ARGV: epoch, expected offset, history size, channel, payloads...
# One message per batch on the channel: a line "EPOCH LAST-OFFSET", then the batch's payloads, one
# per line, so that a process can skip its own writes without parsing them.
APPEND_SCRIPT = """
local epoch = redis.call('GET', KEYS[1])
if epoch ~= ARGV[1] then return {'epoch', epoch or ''} end
local offset = tonumber(redis.call('GET', KEYS[2]) or '0')
if offset ~= tonumber(ARGV[2]) then return {'stale', tostring(offset)} end
local keep = tonumber(ARGV[3])
local snapshot_offset = tonumber(redis.call('GET', KEYS[4]) or '0')
for i = 5, #ARGV do
  offset = offset + 1
  redis.call('XADD', KEYS[3], offset .. '-0', 'p', ARGV[i])
end
redis.call('PUBLISH', ARGV[4], epoch .. ' ' .. offset .. '\\n' .. table.concat(ARGV, '\\n', 5))
redis.call('SET', KEYS[2], offset)
local oldest = math.min(snapshot_offset + 1, offset - keep + 1)
if oldest > 1 then redis.call('XTRIM', KEYS[3], 'MINID', '~', oldest .. '-0') end
return {'ok', tostring(offset)}
"""

# KEYS: epoch, snapshot, snapshot-offset   ARGV: epoch, offset, snapshot
# Returns 1: stored; 2: a snapshot at this offset or later is there already; 0: another epoch.
SNAPSHOT_SCRIPT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(redis.call('GET', KEYS[3]) or '0') >= tonumber(ARGV[2]) then return 2 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SET', KEYS[3], ARGV[2])
return 1
"""

SOCKET_TIMEOUT = 5.0  # seconds to wait for a reply before sending a write again (it may have run)
RESEND_PAUSE_MAX = 1.0  # seconds between two sends of a write Redis has not answered, at most
StreamEntries = list[tuple[str, dict[str, str]]]


class RedisStorage(Storage):
    name = "redis"

    def __init__(
        self, url: str, event_slug: str, history_size: int = HISTORY_SIZE, socket_timeout: float = SOCKET_TIMEOUT
    ) -> None:
        super().__init__(history_size)
        self._url = url
        self._prefix = f"live:{event_slug}"
        # No retries inside redis-py: a command it sent again after a timeout could run twice
        # unseen. This module sends again itself, where the offset check makes it safe.
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            health_check_interval=10,
            socket_connect_timeout=5,
            socket_timeout=socket_timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._append_script = self._redis.register_script(APPEND_SCRIPT)
        self._snapshot_script = self._redis.register_script(SNAPSHOT_SCRIPT)
        self._rooms: set[str] = set()  # the rooms loaded, which are the ones followed
        self._following: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    @property
    def location(self) -> str:
        return self._url.split("@")[-1]

    def _key(self, room_id: str, name: str) -> str:
        return f"{self._prefix}:{room_id}:{name}"

    def _channel(self, room_id: str) -> str:
        return f"{self._prefix}:events:{room_id}"

    async def open(self) -> None:
        return  # the client connects on its first command

    async def close(self) -> None:
        if self._following is not None:
            self._following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._following
        await self._redis.aclose()

    async def health(self) -> dict[str, Any]:
        try:
            reachable = bool(await asyncio.wait_for(self._redis.ping(), timeout=2))
        except (RedisError, OSError, TimeoutError):
            reachable = False
        return {"engine": self.name, "redis": self.location, "redis_reachable": reachable, "ok": reachable}

    async def load(self, room_id: str) -> StoredRoom:
        await self._redis.set(self._key(room_id, "epoch"), new_epoch(), nx=True)
        epoch = str(await self._redis.get(self._key(room_id, "epoch")))
        self._rooms.add(room_id)
        raw = await self._redis.get(self._key(room_id, "snapshot"))
        if raw is not None:
            snapshot = json.loads(raw)
            if snapshot["epoch"] == epoch:
                return StoredRoom(epoch, snapshot["offset"], snapshot["state"])
        return StoredRoom(epoch)

    async def append(self, room_id: str, events: list[StoredEvent]) -> None:
        keys = [self._key(room_id, n) for n in ("epoch", "offset", "events", "snapshot_offset")]
        epoch, expected = events[0].epoch, events[0].offset - 1
        payloads = [stored.payload for stored in events]
        args: list[str | int] = [epoch, expected, self.history_size, self._channel(room_id), *payloads]
        sent = 0  # sends whose outcome is not known: each may have run, or may still
        while True:
            try:
                status, value = await self._append_script(keys=keys, args=args)
                if status == "stale" and sent and await self._already_appended(room_id, expected, payloads):
                    status = "ok"  # an earlier send ran, only its reply was lost: do not decide it again
                break
            except (RedisConnectionError, RedisTimeoutError, OSError) as error:
                if not sent and _failed_before_sending(error):
                    raise StorageUnavailable("Redis cannot be reached; the command was not applied") from error
                # After a Redis restart pooled connections are dead (each fails once and is
                # replaced); or the reply was lost or late, and the script ran or will: send again.
                sent += 1
                if sent == 2:
                    log.warning("room %s: Redis does not answer a write (%s); sending it until it does", room_id, error)
                await asyncio.sleep(min(RESEND_PAUSE_MAX, 0.1 * (sent - 1)))
            except RedisError as error:  # e.g. out of memory, or a read-only replica: this send wrote nothing
                log.error("room %s: Redis refused the write: %s", room_id, error)
                if sent:
                    raise OutcomeUnknown("Redis refused the write after an unanswered one") from error
                raise StorageUnavailable("Redis refused the write; the command was not applied") from error
        if sent > 1:
            log.warning("room %s: Redis answered the write after %d sends", room_id, sent + 1)
        if status == "stale":
            raise StaleReplica(value)
        if status == "epoch":
            raise StorageUnavailable(f"room {room_id} lost its history in Redis (epoch {value!r}); restart the server")

    async def _already_appended(self, room_id: str, expected: int, payloads: list[str]) -> bool:
        """Whether the events right after ``expected`` are these very ones: events carry the state
        they set (and new things fresh ids), so equal events mean the change is already made."""
        entries: StreamEntries = await self._redis.xrange(  # type: ignore[assignment]
            self._key(room_id, "events"), min=f"({expected}-0", count=len(payloads)
        )
        return [json.loads(fields["p"]) for _, fields in entries] == [json.loads(p) for p in payloads]

    async def read_after(self, room_id: str, offset: int, limit: int) -> list[StoredEvent]:
        try:
            entries: StreamEntries = await self._redis.xrange(  # type: ignore[assignment]
                self._key(room_id, "events"), min=f"({offset}-0", count=limit
            )
        except (RedisError, OSError) as error:
            raise StorageUnavailable("Redis cannot be reached") from error
        return [StoredEvent.from_payload(fields["p"]) for _, fields in entries]

    async def save_snapshot(self, room_id: str, epoch: str, offset: int, snapshot: dict[str, Any]) -> bool:
        document = json.dumps({"epoch": epoch, "offset": offset, "state": snapshot})
        keys = [self._key(room_id, n) for n in ("epoch", "snapshot", "snapshot_offset")]
        try:
            return int(await self._snapshot_script(keys=keys, args=[epoch, offset, document])) in (1, 2)
        except (RedisError, OSError):
            log.warning("room %s: snapshot at %d not saved; the stream still holds the events", room_id, offset)
            return False

    async def snapshot_offset(self, room_id: str) -> int | None:
        try:
            stored = await self._redis.get(self._key(room_id, "snapshot_offset"))
        except (RedisError, OSError):
            return None
        return int(stored) if stored is not None else 0

    async def follow(self, follower: Follower) -> None:
        self._following = asyncio.create_task(self._follow(follower), name="redis-follow")
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def revoke_login(self, login_id: str, lifetime: float) -> None:
        try:
            await self._redis.set(f"{self._prefix}:revoked:{login_id}", "1", ex=max(1, int(lifetime)))
        except (RedisError, OSError) as error:
            raise StorageUnavailable("Redis cannot be reached; the logout was not recorded") from error

    async def is_login_revoked(self, login_id: str) -> bool:
        try:
            return bool(await self._redis.exists(f"{self._prefix}:revoked:{login_id}"))
        except (RedisError, OSError) as error:
            raise StorageUnavailable("Redis cannot be reached") from error

    def _on_message(self, follower: Follower, room_id: str, message: str) -> None:
        if room_id not in self._rooms:
            return
        header, _, lines = message.partition("\n")
        epoch, _, last = header.partition(" ")
        position = follower.position(room_id)
        if epoch == position.epoch and last.isdigit() and int(last) <= position.offset:
            return  # already applied: this process's own write, echoed back
        follower.receive_appended(room_id, [StoredEvent.from_payload(line) for line in lines.split("\n")])

    async def _follow(self, follower: Follower) -> None:
        """Follow every room's channel; after a lost connection, resubscribe and catch up."""
        pattern = f"{self._prefix}:events:*"
        prefix_length = len(pattern) - 1
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(pattern)
                if self._subscribed.is_set():
                    for room_id in self._rooms:
                        follower.catch_up_later(room_id)
                self._subscribed.set()
                while True:
                    # A bounded wait, not listen(): an idle room must not look like a dead socket.
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "pmessage":
                        room_id = message["channel"][prefix_length:]
                        try:
                            self._on_message(follower, room_id, message["data"])
                        except Exception:  # one unreadable message must not end the subscription
                            log.exception("room %s: unreadable event message; catching up", room_id)
                            follower.catch_up_later(room_id)
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


def _failed_before_sending(error: Exception) -> bool:
    """Whether redis-py failed while connecting (refused, or no handshake in time), before the
    command was written. Its connect errors say "Error 111 connecting to HOST" or "Timeout
    connecting to server" (redis/asyncio/connection.py); tests/test_outcomes.py checks that a
    stopped Redis still reads so. Anything else may have been sent."""
    return "connecting to" in str(error)
