"""How ``live serve`` keeps the garbage collector's pauses short: long-lived objects frozen.

CPython's full collection visits every container object the collector tracks. With thousands of
viewers that is hundreds of thousands of objects, nearly all of which live as long as the process
(modules, the event file, catalogues, templates) or as their connection (its outbox, frame writer,
coroutine frames, the WebSocket and its scope). At 5,000 viewers one full collection visited
470,000 objects and stopped the loop for 525 ms, and it ran about every 30 s: that pause was the
stream's p99 (docs/CAPACITY.md). ``gc.freeze()`` moves every tracked object to a permanent
generation that collections do not visit; the objects are still freed by reference counting, and
collections keep finding the short-lived garbage (a message's dicts, a command's frames) as before.

The policy, all here:

- after start-up, collect once and freeze what is left;
- every ``interval`` s, when the number of live-stream connections grew by ``step`` (at least
  ``MIN_STEP``, or a tenth of those counted at the last freeze) since the last freeze, collect the
  young generations and freeze again: the new viewers' objects join the frozen ones;
- a frozen object that becomes cyclic garbage (a closed connection's objects, when they hold a
  reference cycle) is not reclaimed while frozen. So when the connections fell to half of those
  counted at the last freeze (a session ended, the room emptied), everything is thawed, collected
  in full (over the fewer objects that remain, so a shorter pause than the peak's), and frozen
  again. A room that churns without shrinking keeps the garbage of those who left until then.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable

from . import metrics

log = logging.getLogger(__name__)

MIN_STEP = 100  # connections joined before the next freeze: a freeze costs little, but not nothing
INTERVAL = 2.0  # seconds between checks of the connection count


class FrozenHeap:
    """Freezes the heap after start-up and after joins; thaws and collects when the audience halves."""

    def __init__(self, connections: Callable[[], int], interval: float = INTERVAL, min_step: int = MIN_STEP) -> None:
        self._connections = connections
        self._interval = interval
        self._min_step = min_step
        self.frozen_at = 0  # connections counted at the last freeze
        self.freezes = 0
        self.thaws = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """After start-up: what exists now lives as long as the process."""
        gc.collect()
        self._freeze(self._connections())
        metrics.GC_FROZEN.set_function(gc.get_freeze_count)
        self._task = asyncio.create_task(self._watch(), name="gc-policy")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        gc.unfreeze()

    def check(self) -> None:
        """One look at the connection count: freeze after growth, thaw and collect after a fall."""
        count = self._connections()
        if count >= self.frozen_at + max(self._min_step, self.frozen_at // 10):
            gc.collect(1)  # the young garbage, not the survivors, stays out of the frozen set
            self._freeze(count)
        elif count <= self.frozen_at // 2 and self.frozen_at >= self._min_step:
            gc.unfreeze()
            gc.collect()
            self.thaws += 1
            self._freeze(count)

    def _freeze(self, count: int) -> None:
        gc.freeze()
        self.frozen_at = count
        self.freezes += 1
        log.debug("gc: %d objects frozen at %d connections", gc.get_freeze_count(), count)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            self.check()
