"""The garbage collector policy of ``live serve`` (live/gc_policy.py): the heap frozen after
start-up and after joins, thawed and collected when the audience halves."""

from __future__ import annotations

import gc
import re
from collections.abc import Callable

import httpx

from live.gc_policy import FrozenHeap

from .conftest import METRICS_KEY, LiveServer
from .livetools import until


def test_joins_freeze_the_heap_and_a_halved_audience_thaws_and_collects_it() -> None:
    connections = [0]
    heap = FrozenHeap(lambda: connections[0], min_step=100)
    try:
        heap._freeze(0)  # as start() does, without its task
        assert gc.get_freeze_count() > 0
        connections[0] = 99
        heap.check()
        assert (heap.freezes, heap.frozen_at) == (1, 0)  # fewer joins than a step: nothing to do
        connections[0] = 1000
        kept = [[] for _ in range(1000)]  # a thousand viewers' long-lived objects
        heap.check()
        assert (heap.freezes, heap.frozen_at) == (2, 1000)
        assert all(gc.is_tracked(item) for item in kept) and gc.get_freeze_count() >= len(kept)
        connections[0] = 1050  # under a tenth more than at the last freeze
        heap.check()
        assert heap.freezes == 2
        cycle: list[object] = []
        cycle.append(cycle)  # garbage a collection must find, once frozen and dropped
        heap.check()
        connections[0] = 1100
        heap.check()
        assert heap.freezes == 3  # the cycle is frozen now
        del cycle
        connections[0] = 500  # half left: thawed, collected in full, frozen again
        heap.check()
        assert (heap.thaws, heap.freezes, heap.frozen_at) == (1, 4, 500)
    finally:
        gc.unfreeze()


async def test_live_serve_freezes_the_heap_after_start_up(start_live: Callable[..., LiveServer]) -> None:
    server = start_live()  # a process of its own: the policy is its alone

    def frozen() -> float:
        text = httpx.get(f"{server.url}/metrics", headers={"authorization": f"Bearer {METRICS_KEY}"}).text
        found = re.search(r"^live_gc_frozen_objects (\S+)$", text, re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    await until(lambda: frozen() > 10_000, timeout=10, what="the start-up heap to be frozen")
