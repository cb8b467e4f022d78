"""Which process hosts each room's stream, when several processes share one Redis.

A stream lives on the process its publisher reached. That process records the room under
``live:{event}:video:{room}`` with its own URL (``--advertise-url``), refreshed every second
with a 10 s lifetime, so a crashed process's claim lapses by itself. The newest publisher wins:
claiming overwrites, and the process that loses a claim ends its own publisher at its next
refresh. Every process reads all rooms' claims on the same beat to tell its viewers which rooms
are live elsewhere. The embedded engine has one process, so ``LocalDirectory`` has nothing to say.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

CLAIM_LIFETIME_MS = 10_000

# Refresh our claim unless another process has taken the room since.
REFRESH_SCRIPT = """
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current)['process'] ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""

RELEASE_SCRIPT = """
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current)['process'] == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


class LocalDirectory:
    """One process: every stream is here."""

    process = "local"

    async def claim(self, room_id: str, info: dict[str, Any]) -> None:
        return None

    async def release(self, room_id: str) -> None:
        return None

    async def refresh(self, hosted: dict[str, dict[str, Any]]) -> set[str]:
        """Renew our claims; returns the rooms another process has taken over."""
        return set()

    async def elsewhere(self) -> dict[str, dict[str, Any]]:
        """Rooms whose stream another process hosts, with that process's claim."""
        return {}

    async def host(self, room_id: str) -> dict[str, Any] | None:
        return None

    async def close(self) -> None:
        return None


class RedisDirectory(LocalDirectory):
    def __init__(self, url: str, event_slug: str, room_ids: list[str], advertise_url: str) -> None:
        self.process = secrets.token_hex(6)
        self.advertise_url = advertise_url
        self._prefix = f"live:{event_slug}:video"
        self._room_ids = room_ids
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=5, socket_timeout=5
        )
        self._refresh = self._redis.register_script(REFRESH_SCRIPT)
        self._release = self._redis.register_script(RELEASE_SCRIPT)

    def _key(self, room_id: str) -> str:
        return f"{self._prefix}:{room_id}"

    def _claim(self, info: dict[str, Any]) -> str:
        return json.dumps({**info, "process": self.process, "url": self.advertise_url})

    async def claim(self, room_id: str, info: dict[str, Any]) -> None:
        await self._redis.set(self._key(room_id), self._claim(info), px=CLAIM_LIFETIME_MS)

    async def release(self, room_id: str) -> None:
        with contextlib.suppress(RedisError, OSError):  # if it fails, the claim lapses by itself
            await self._release(keys=[self._key(room_id)], args=[self.process])

    async def refresh(self, hosted: dict[str, dict[str, Any]]) -> set[str]:
        lost = set()
        for room_id, info in hosted.items():
            kept = await self._refresh(
                keys=[self._key(room_id)], args=[self.process, self._claim(info), CLAIM_LIFETIME_MS]
            )
            if not kept:
                lost.add(room_id)
        return lost

    async def _all(self) -> dict[str, dict[str, Any]]:
        values = await self._redis.mget([self._key(room_id) for room_id in self._room_ids])
        return {room_id: json.loads(value) for room_id, value in zip(self._room_ids, values, strict=True) if value}

    async def elsewhere(self) -> dict[str, dict[str, Any]]:
        return {room_id: claim for room_id, claim in (await self._all()).items() if claim["process"] != self.process}

    async def host(self, room_id: str) -> dict[str, Any] | None:
        value = await self._redis.get(self._key(room_id))
        claim: dict[str, Any] | None = json.loads(value) if value else None
        return claim if claim and claim["process"] != self.process else None

    async def close(self) -> None:
        await self._redis.aclose()
