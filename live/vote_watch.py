"""Votes that look stuffed: for each question and poll, the addresses its most recent votes came
from, so that a room's moderators can be told "38 of the last 40 votes came from one address in
2 minutes". Nothing here changes a vote; the moderator decides what it means.

A runtime signal, not domain state: addresses are the transport's business (the domain never
sees or stores them), the counts are per process (with several replicas each watches what it
served) and they are forgotten on restart. Votes from a venue network's address are counted in
the total but never as "one address": everyone at the venue shares it.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field

RECENT_VOTES = 40  # how many of a target's latest votes are looked at
RECENT_SECONDS = 120.0  # ... and only those this recent
MIN_FROM_ONE_ADDRESS = 10  # fewer votes than this from one address is never an alert
TARGETS_PER_ROOM = 1000  # questions and polls watched per room; the least recently voted forgotten


@dataclass(frozen=True)
class VoteAlert:
    target: str  # "question" or "poll"
    target_id: str
    from_one_address: int
    recent_votes: int
    seconds: int  # from the first to the last of those recent votes
    at: float


@dataclass
class _Recent:
    votes: deque[tuple[float, str | None]] = field(default_factory=lambda: deque(maxlen=RECENT_VOTES))
    alerted: tuple[int, int] | None = None  # the figures last alerted: each change is one alert


class VoteWatch:
    def __init__(self) -> None:
        self._targets: dict[str, OrderedDict[tuple[str, str], _Recent]] = {}

    def record(self, room_id: str, target: str, target_id: str, address: str | None, now: float) -> VoteAlert | None:
        """Count one accepted vote (``address`` None: a venue network's); an alert if the target's
        recent votes now come mostly from one address and the figures changed. At most one alert per
        vote, and only moderators get them; one address's votes are few (ratelimit.py)."""
        targets = self._targets.setdefault(room_id, OrderedDict())
        recent = targets.pop((target, target_id), None) or _Recent()
        targets[(target, target_id)] = recent
        if len(targets) > TARGETS_PER_ROOM:
            targets.popitem(last=False)
        recent.votes.append((now, address))
        while recent.votes and now - recent.votes[0][0] > RECENT_SECONDS:
            recent.votes.popleft()
        counts: dict[str, int] = {}
        for _, voter in recent.votes:
            if voter is not None:
                counts[voter] = counts.get(voter, 0) + 1
        top = max(counts.values(), default=0)
        total = len(recent.votes)
        if top < MIN_FROM_ONE_ADDRESS or top * 2 <= total:
            return None
        if recent.alerted == (top, total):
            return None
        recent.alerted = (top, total)
        span = round(now - recent.votes[0][0])
        return VoteAlert(target, target_id, top, total, span, now)
