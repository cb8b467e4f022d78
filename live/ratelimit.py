"""Per-participant token buckets: a viewer may ask a few questions a minute and vote a few times
a second; moderators are not limited. Pure arithmetic on a ``now`` the caller passes in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    burst: float  # how many at once
    per_second: float  # how fast the allowance refills


LIMITS = {
    "ask_question": Rate(burst=3, per_second=1 / 20),
    "upvote": Rate(burst=20, per_second=4),
    "vote_poll": Rate(burst=10, per_second=2),
}


class RateLimiter:
    """Remembers at most ``capacity`` participants; the least recently seen are forgotten first."""

    def __init__(self, limits: dict[str, Rate] | None = None, capacity: int = 100_000) -> None:
        self._limits = LIMITS if limits is None else limits
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._capacity = capacity

    def allow(self, who: str, action: str, now: float) -> float:
        """0 if allowed (and counted), else the seconds to wait before trying again."""
        rate = self._limits.get(action)
        if rate is None:
            return 0.0
        key = (who, action)
        tokens, last = self._buckets.pop(key, (rate.burst, now))
        tokens = min(rate.burst, tokens + (now - last) * rate.per_second)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / rate.per_second
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > self._capacity:
            self._buckets.pop(next(iter(self._buckets)))
        return 0.0

    def refund(self, who: str, action: str) -> None:
        """Give back the allowance of a command that was refused: only accepted ones count."""
        rate, key = self._limits.get(action), (who, action)
        if rate is not None and key in self._buckets:
            tokens, last = self._buckets[key]
            self._buckets[key] = (min(rate.burst, tokens + 1), last)
