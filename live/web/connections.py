"""Connections that cost a file descriptor without ever sending a request: bounded in time and in
number per address, at the transport, before any request exists.

uvicorn closes a keep-alive connection that stays idle between requests, but nothing bounds a
connection that never finishes its request head: 1,100 connections sending a header byte every
10 s (slowloris) held every file descriptor of a server with the common limit of 1,024. Here a
request head must complete within ``head_timeout`` seconds of the connection opening (or, on a
kept-alive connection, of its first byte), and one client address may hold at most
``per_address`` connections at once (HTTP and WebSocket alike); the one over is closed at once.
A WebSocket handshake is a request head, so it is bounded the same way. A head is also
limited to ``MAX_HEAD_BYTES`` (431 over it), since httptools itself sets no limit.

This extends uvicorn's httptools protocol (its callbacks ``on_message_begin`` and
``on_headers_complete``); uvicorn is pinned for live/web/frames.py already, and
tests/test_edge.py fails if these callbacks stop being called.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections import Counter
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .frames import LiveWebSocketProtocol


def trusted_proxies(forwarded_allow_ips: str) -> Callable[[str], bool]:
    """Whether an address is one of ``--forwarded-allow-ips`` (addresses or networks, or ``*``)."""
    entries = [entry.strip() for entry in forwarded_allow_ips.split(",") if entry.strip()]
    if "*" in entries:
        return lambda address: True
    networks = []
    for entry in entries:
        with contextlib.suppress(ValueError):  # a host name or unix socket path: not an address
            networks.append(ipaddress.ip_network(entry, strict=False))

    def trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    return trusted


MAX_HEAD_BYTES = 64 * 1024  # httptools reads headers without a limit: 5 MB of them were accepted
HEAD_TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class ConnectionCounter:
    """Open connections per client address; ``per_address`` 0 means no cap. A trusted proxy's
    connections are not capped: they are every client's behind it (the proxy limits its own)."""

    def __init__(self, per_address: int, exempt: Callable[[str], bool] = lambda address: False) -> None:
        self.per_address = per_address
        self._exempt = exempt
        self._address_of: dict[int, str] = {}  # id(transport) -> address, for the admitted ones
        self._open: Counter[str] = Counter()

    def admit(self, transport: asyncio.BaseTransport, address: str) -> bool:
        if self.per_address and self._open[address] >= self.per_address and not self._exempt(address):
            return False
        self._address_of[id(transport)] = address
        self._open[address] += 1
        return True

    def release(self, transport: asyncio.BaseTransport) -> None:
        """Idempotent: called by whichever protocol (HTTP, or WebSocket after an upgrade) saw it end."""
        address = self._address_of.pop(id(transport), None)
        if address is not None:
            self._open[address] -= 1
            if not self._open[address]:
                del self._open[address]

    def open_from(self, address: str) -> int:
        return self._open[address]


def guarded_protocols(head_timeout: float, counter: ConnectionCounter) -> tuple[type[Any], type[Any]]:
    """uvicorn's ``http`` and ``ws`` protocol classes, with the head timeout and the address cap."""

    class GuardedWebSocketProtocol(LiveWebSocketProtocol):
        def connection_lost(self, exc: Exception | None) -> None:
            counter.release(self.transport)
            super().connection_lost(exc)

    class GuardedHttpProtocol(HttpToolsProtocol):
        _head_timer: asyncio.TimerHandle | None = None
        _head_bytes = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            address = self.client[0] if self.client else "unknown"
            if not counter.admit(transport, address):
                transport.close()
                return
            self._start_head_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_head_timer()
            counter.release(self.transport)
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._head_timer is not None:  # still no whole head: what came was all head
                self._head_bytes += len(data)
                if self._head_bytes > MAX_HEAD_BYTES and not self.transport.is_closing():
                    self._stop_head_timer()
                    self.transport.write(HEAD_TOO_LARGE)
                    self.transport.close()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._head_timer is None:  # a kept-alive connection's next request
                self._start_head_timer()

        def on_headers_complete(self) -> None:
            self._stop_head_timer()
            super().on_headers_complete()

        def _start_head_timer(self) -> None:
            self._head_bytes = 0
            self._head_timer = self.loop.call_later(head_timeout, self._head_too_slow)

        def _stop_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_too_slow(self) -> None:
            self._head_timer = None
            if not self.transport.is_closing():
                self.transport.close()

    return GuardedHttpProtocol, GuardedWebSocketProtocol
