"""Token buckets: per participant (a viewer may ask a few questions a minute and vote a few times
a second; moderators are not limited) and per client address (a script that clears its cookie
becomes a new participant each time, but keeps its address). Pure arithmetic on a ``now`` the
caller passes in.

An address inside a venue network (the event file's ``venue_networks``: the venue's Wi-Fi, where
thousands of phones share one address behind NAT) gets its network's ``scale`` times every
per-address allowance. docs/CONFIGURATION.md gives the figures and the trade-off.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Rate:
    burst: float  # how many at once
    per_second: float  # how fast the allowance refills

    def scaled(self, factor: float) -> Rate:
        return Rate(self.burst * factor, self.per_second * factor)


LIMITS = {
    "ask_question": Rate(burst=3, per_second=1 / 20),
    "upvote": Rate(burst=20, per_second=4),
    "vote_poll": Rate(burst=10, per_second=2),
    "edit_my_question": Rate(burst=10, per_second=1 / 6),  # an asker's fixes to a pending question
}

# What one ordinary address may do, whoever its participants are. Each participant can upvote a
# question once, so NEW_PARTICIPANT bounds how far one address can stuff a question or a poll:
# 20 at once, then one every 30 s, i.e. at most 40 votes per question in ten minutes.
NEW_PARTICIPANT = "new_participant"  # an anonymous identity cookie minted (identity.py)
STREAM_CONNECT = "stream_connect"  # a live-stream connection opened (stream.py)
OTHER_COMMAND = "other_command"  # any command kind without its own line below
ADDRESS_LIMITS = {
    NEW_PARTICIPANT: Rate(burst=20, per_second=1 / 30),
    STREAM_CONNECT: Rate(burst=40, per_second=1),
    "ask_question": Rate(burst=10, per_second=1 / 15),
    "upvote": Rate(burst=60, per_second=1),
    "vote_poll": Rate(burst=40, per_second=1),
    OTHER_COMMAND: Rate(burst=60, per_second=2),
}
MAX_STREAMS_PER_ADDRESS = 40  # open live-stream connections at once: a household's or an office's tabs
IPV6_PREFIX = 64  # one home or phone gets a whole /64: its addresses count as one


class RateLimiter:
    """Remembers at most ``capacity`` keys; the least recently seen are forgotten first.

    ``scale`` multiplies a bucket's burst and refill (a venue network's address); ``default``
    is the rate of actions without their own entry (none: not limited)."""

    def __init__(
        self, limits: dict[str, Rate] | None = None, capacity: int = 100_000, default: str | None = None
    ) -> None:
        self._limits = LIMITS if limits is None else limits
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._capacity = capacity
        self._default = default

    def _rate(self, action: str) -> tuple[str, Rate] | None:
        if action in self._limits:
            return action, self._limits[action]
        if self._default is not None:
            return self._default, self._limits[self._default]
        return None

    def allow(self, who: str, action: str, now: float, scale: float = 1.0) -> float:
        """0 if allowed (and counted), else the seconds to wait before trying again."""
        found = self._rate(action)
        if found is None:
            return 0.0
        name, rate = found[0], found[1].scaled(scale)
        key = (who, name)
        tokens, last = self._buckets.pop(key, (rate.burst, now))
        tokens = min(rate.burst, tokens + (now - last) * rate.per_second)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / rate.per_second
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > self._capacity:
            self._buckets.pop(next(iter(self._buckets)))
        return 0.0

    def refund(self, who: str, action: str, scale: float = 1.0) -> None:
        """Give back the allowance of a command that was refused: only accepted ones count."""
        found = self._rate(action)
        if found is None or (who, found[0]) not in self._buckets:
            return
        key, rate = (who, found[0]), found[1].scaled(scale)
        tokens, last = self._buckets[key]
        self._buckets[key] = (min(rate.burst, tokens + 1), last)


@dataclass(frozen=True)
class VenueNetwork:
    network: IPNetwork
    scale: float  # times an ordinary address's allowances

    @classmethod
    def for_phones(cls, network: IPNetwork, phones: int) -> VenueNetwork:
        """Scaled so that ``phones`` new participants may join at once from one address."""
        return cls(network, max(1.0, phones / ADDRESS_LIMITS[NEW_PARTICIPANT].burst))


class AddressLimits:
    """What each client address may do: buckets per action, and a count of open streams.

    Kept per process, like the participant buckets: with N replicas behind a balancer an address
    gets up to N times the allowance (docs/CONFIGURATION.md)."""

    def __init__(self, venue_networks: Iterable[VenueNetwork] = (), capacity: int = 100_000) -> None:
        self.venue_networks = tuple(venue_networks)
        self.buckets = RateLimiter(ADDRESS_LIMITS, capacity, default=OTHER_COMMAND)
        self.streams: dict[str, int] = {}
        self.scale = lru_cache(maxsize=4096)(self._scale)
        self.key = lru_cache(maxsize=4096)(self._key)

    @staticmethod
    def _key(address: str) -> str:
        """What one address counts as: itself, or for IPv6 its /64 (else a script walks its /64)."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return address
        if isinstance(ip, ipaddress.IPv6Address):
            if ip.ipv4_mapped is not None:
                return str(ip.ipv4_mapped)
            return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
        return address

    def _scale(self, address: str) -> float:
        """The venue network's scale for an address inside one (the largest, if several), else 1."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return 1.0
        return max((venue.scale for venue in self.venue_networks if ip in venue.network), default=1.0)

    def in_venue_network(self, address: str) -> bool:
        return self.scale(address) > 1.0

    def allow(self, address: str, action: str, now: float) -> float:
        return self.buckets.allow(self.key(address), action, now, self.scale(address))

    def refund(self, address: str, action: str) -> None:
        self.buckets.refund(self.key(address), action, self.scale(address))

    def open_stream(self, address: str, now: float) -> float:
        """0 if the address may open one more stream (now counted open: call ``close_stream``),
        else the seconds to wait; an address at its cap waits for one of its streams to close."""
        key = self.key(address)
        if self.streams.get(key, 0) >= MAX_STREAMS_PER_ADDRESS * self.scale(address):
            return 5.0
        wait = self.allow(address, STREAM_CONNECT, now)
        if not wait:
            self.streams[key] = self.streams.get(key, 0) + 1
        return wait

    def close_stream(self, address: str) -> None:
        key = self.key(address)
        left = self.streams.get(key, 0) - 1
        if left > 0:
            self.streams[key] = left
        else:
            self.streams.pop(key, None)
