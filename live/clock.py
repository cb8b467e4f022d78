"""The agenda's clock: what "now" is for the pages' now/next lines, the lobby's order and states,
and the presenter's clock.

It is the real time, unless ``--agenda-now`` (``LIVE_AGENDA_NOW``) names a local time of the event:
then the agenda reads that time when the server starts and runs on from there. Organisers use it to
rehearse a day of the event before it (or walk through a past one), and the browser tests to show
the lobby before, during and after the event. Only the agenda's view of time moves: commands,
recordings and replays keep the real clock (a replay is of what was really recorded).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class AgendaClock:
    offset: float = 0.0  # seconds from the real time to the agenda's

    @classmethod
    def starting_at(cls, local: dt.datetime | None, zone: ZoneInfo, real_now: float | None = None) -> AgendaClock:
        """A clock that reads ``local`` (the event's local time, no offset) now; the real one for None."""
        if local is None:
            return cls()
        real = time.time() if real_now is None else real_now
        return cls(local.replace(tzinfo=zone).timestamp() - real)

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.timestamp(), dt.UTC)

    def timestamp(self) -> float:
        return time.time() + self.offset
