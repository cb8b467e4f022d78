"""The fan-out's own Python cost per connection, without sockets: what ``fanout_bench.py``'s
figures cannot separate from the kernel's share on a busy machine.

    .venv/bin/python bench/fanout_inner.py --viewers 5000
    cd ../other-checkout && ../live/.venv/bin/python ../live/bench/fanout_inner.py   # that tree's live

One process, the current directory's ``live`` package: a service on the embedded engine, N direct
connections whose transports take bytes and do nothing, and a moderator asking questions into a
post-moderation room, as in fanout_bench.py. CPU time (``time.process_time``) per command with N
connections, minus the same with none, divided by N: the hub's, outbox's and frame writer's work
per delivery. The same for ``websockets.broadcast()`` over ``ServerProtocol`` objects on the same
kind of transport, the baseline's own Python work per delivery. The kernel's part of a real
delivery (the ``send`` and, on loopback, the receiver's TCP stack) is the same for both and is
not here.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import types
from pathlib import Path

sys.path.insert(0, os.getcwd())  # the checkout being measured

from websockets.asyncio.connection import broadcast
from websockets.protocol import State
from websockets.server import ServerProtocol

from live.cli import build_service
from live.config import parse_event_file
from live.domain.roles import Actor, Audience, Role
from live.outbox import DirectConnection
from live.settings import ServeSettings
from live.web.frames import FrameWriter


class Transport:
    """Takes bytes and does nothing: a socket that is always writable."""

    __slots__ = ()

    def write(self, data: bytes) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0


def text(n: int) -> str:
    return f"Benchmark question bench:{n}:{time.time_ns()} — how fast can hydrogen trucks scale? 氢能重卡"


async def per_command(viewers: int, commands: int) -> float:
    """CPU seconds per ask_question with ``viewers`` direct connections in the room."""
    settings = ServeSettings(
        data_dir=Path(tempfile.mkdtemp(prefix="live-inner-")), config=Path("config/summit-2023.toml"), secret="s" * 32
    )
    service = build_service(settings, parse_event_file(settings.config))
    await service.engine.start()
    service.hub.start()
    moderator = Actor("moderator", None, frozenset({(Role.MODERATOR, "*")}), True)
    await service.run_command("main", moderator, {"type": "set_moderation", "mode": "post"})
    for n in range(viewers):
        protocol = types.SimpleNamespace(conn=types.SimpleNamespace(state=State.OPEN), transport=Transport())
        connection = DirectConnection("main", Audience.PUBLIC, "viewer", FrameWriter(protocol), None, 500)  # type: ignore[arg-type]
        service.hub.attach(connection, f"viewer-{n}", None)
        connection.start()
    for n in range(20):  # warm up
        await service.run_command("main", moderator, {"type": "ask_question", "text": text(n)})
    started = time.process_time()
    for n in range(commands):
        await service.run_command("main", moderator, {"type": "ask_question", "text": text(n)})
    spent = (time.process_time() - started) / commands
    await service.hub.close()
    await service.engine.close()
    return spent


class BroadcastConnection:
    """What ``websockets.broadcast()`` reads of a server connection."""

    def __init__(self) -> None:
        self.protocol = ServerProtocol()
        self.protocol.state = State.OPEN
        self.send_in_progress = None
        self.fragmented_send_waiter = None
        self.transport = Transport()

    def send_data(self) -> None:  # as websockets.asyncio.connection.Connection.send_data
        for data in self.protocol.data_to_send():
            if data:
                self.transport.write(data)


def broadcast_per_delivery(viewers: int, messages: int, message: str) -> float:
    connections = {BroadcastConnection() for _ in range(viewers)}
    started = time.process_time()
    for _ in range(messages):
        broadcast(connections, message)
    return (time.process_time() - started) / messages / viewers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=5000)
    parser.add_argument("--commands", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="take the fastest of this many measurements")
    arguments = parser.parse_args()
    alone = min(asyncio.run(per_command(0, arguments.commands)) for _ in range(arguments.repeat))
    full = min(asyncio.run(per_command(arguments.viewers, arguments.commands)) for _ in range(arguments.repeat))
    ours = (full - alone) / arguments.viewers
    message = '{"type":"question","question":{"text":"' + "x" * 300 + '"}}'
    base = min(broadcast_per_delivery(arguments.viewers, 20, message) for _ in range(arguments.repeat))
    print(f"live from {os.getcwd()}, {arguments.viewers} connections, load average {os.getloadavg()[0]:.1f}")
    print(f"  per command, no connections: {alone * 1e3:.3f} ms; with them: {full * 1e3:.3f} ms")
    print(f"  ours, Python per delivery: {ours * 1e6:.3f} µs")
    print(f"  websockets.broadcast(), Python per delivery: {base * 1e6:.3f} µs")


if __name__ == "__main__":
    main()
