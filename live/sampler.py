"""Counting each room's audience every few seconds and storing it (live/engines/samples.py), so
that the report can draw viewers over time after the fact.

Each process counts what it serves: the live-stream connections of its hub, its WebRTC players,
and its HLS players (estimated from the segments it served during the interval: each player
fetches every segment once, so segments x segment length / interval is the number of players
keeping up; behind a cache such as the shipped nginx only the cache's own fetches reach the
process, and the cache's log is the place to count them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from .engines.engine import Engine
from .engines.samples import SAMPLE_INTERVAL, Sample, SampleStore
from .hub import Hub
from .media import MediaService

log = logging.getLogger(__name__)


class AudienceSampler:
    def __init__(
        self,
        store: SampleStore,
        engine: Engine,
        hub: Hub,
        media: MediaService,
        interval: float = SAMPLE_INTERVAL,
        source: str = "",
    ) -> None:
        self.store = store
        self.interval = interval
        self.source = source
        self._engine, self._hub, self._media = engine, hub, media
        self._segments: dict[str, int] = {}  # HLS segments served by the last sample, per room
        self._task: asyncio.Task[None] | None = None

    def take(self, now: float) -> list[Sample]:
        """Every room's audience now, as this process serves it."""
        samples = []
        for room_id in self._engine.room_ids:
            media = self._media.rooms.get(room_id)
            webrtc, hls = 0, 0
            if media is not None:
                webrtc = len(media.players)
                served = media.hls.requests["segment"]
                fetched = served - self._segments.get(room_id, served)
                self._segments[room_id] = served
                segments = media.hls.segments
                length = sum(s.duration for s in segments) / len(segments) if segments else media.hls.target
                hls = round(fetched * length / self.interval)
            position = self._engine.position(room_id)
            count = self._hub.count(room_id)
            samples.append(Sample(room_id, now, position.offset, count, webrtc, hls, self.source, position.epoch))
        return samples

    async def sample(self) -> None:
        try:
            await self.store.add(self.take(time.time()))
        except Exception:  # a lost sample is a gap in a chart: never a reason to stop sampling
            log.exception("could not store the audience samples")

    async def start(self) -> None:
        await self.store.open()
        await self.sample()  # the audience at start, and the HLS counters' starting point
        self._task = asyncio.create_task(self._sample_forever(), name="audience-sampler")

    async def _sample_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.sample()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.store.close()
