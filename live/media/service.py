"""Every room's video in one process: who publishes, who watches, and what viewers are told.

A room's source is, in order: a publisher connected here (from its first keyframe on: "live"
means a newcomer sees a picture at once), a publisher connected to another process (viewers are
redirected there), the demo pattern (``--demo``), or nothing (offline).
Whenever that changes, the room's event stream carries ``{"type": "video", "status": "live",
"stream": ...}`` or ``{"type": "video", "status": "offline"}`` to every page at once; a new
``stream`` value tells players to reconnect, and players attached to a source that is no longer
the room's are ended, so nobody is left watching a frozen frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from .. import metrics, protocol
from ..ratelimit import Rate, RateLimiter
from .demo import DemoSource
from .directory import LocalDirectory
from .hls import Packager
from .ingest import Publisher
from .offer import Offer, OfferRefused
from .playback import Player
from .recording import Recordings
from .relay import Relay

log = logging.getLogger(__name__)

# How a room's video status reaches its pages: (room, message, keep for newcomers). Hub.publish_status.
Announce = Callable[[str, dict[str, Any], bool], None]

DIRECTORY_INTERVAL = 1.0  # seconds between two refreshes of this process's claims


MAX_VIEWERS_PER_ROOM = 2000  # players one process serves a room; more viewers: more processes
DEFAULT_SEATS = 300  # WebRTC players per process (about 150-195 per core: docs/CAPACITY.md); the rest get HLS
MAX_CONNECTING = 64  # sessions still setting up, all rooms together: each costs DTLS and ICE work
MAX_CONNECTING_PER_ADDRESS = 8  # of those, from one address: offers that never connect cannot fill them


class Offline(Exception):
    """The room has no stream to watch right now."""


class Busy(Exception):
    """Too many viewers, or too many sessions still connecting: try again shortly."""

    code = "busy"


class SeatsFull(Busy):
    """Every WebRTC seat of this process is taken: players use HLS instead (docs/VIDEO.md)."""

    code = "seats_full"


class Elsewhere(Exception):
    """The room's stream lives on another process, reachable at ``url``."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


@dataclass
class RoomMedia:
    publisher: Publisher | None = None  # the one feeding the room (or, until then, the only one)
    incoming: Publisher | None = None  # a newer one: it takes over at its first keyframe
    demo: DemoSource | None = None
    remote: dict[str, Any] | None = None  # another process's claim on the room
    players: dict[str, Player] = field(default_factory=dict)
    stream_ids: dict[int, str] = field(default_factory=dict)  # id(relay) -> public stream id
    announced: dict[str, str] | None = None
    hls: Packager = field(default_factory=Packager)  # outlives every relay: one playlist per room


def _measure(room_id: str, media: RoomMedia) -> None:
    """/metrics reads the room's WebRTC viewers here and its packager's state when scraped."""
    metrics.WEBRTC_VIEWERS.labels(room_id).set_function(lambda: len(media.players))
    metrics.HLS_PACKAGING.labels(room_id).set_function(lambda: 1 if media.hls.packaging else 0)


class MediaService:
    def __init__(
        self,
        announce: Announce,
        rooms: dict[str, str],
        directory: LocalDirectory | None = None,
        demo: bool = False,
        seats: int = DEFAULT_SEATS,
        recordings: Recordings | None = None,
        zone: dt.tzinfo = dt.UTC,
    ) -> None:
        """``rooms`` maps each room's slug to the title the demo pattern shows; ``announce``
        tells a room's pages its video status (the hub's ``publish_status``); ``seats`` is how
        many WebRTC players this process serves, all rooms together; ``recordings`` (None: not
        recorded) keeps every room's segments on disk; ``zone`` is the event's, whose time the
        demo pattern's clock shows."""
        self._announce_status = announce
        self.seats = seats
        self.limiter = RateLimiter({"whep": Rate(burst=20, per_second=2)})  # per client address
        self.directory = directory or LocalDirectory()
        self.rooms = {slug: RoomMedia() for slug in rooms}
        self.recordings = recordings
        for slug, media in self.rooms.items():
            media.hls.recorder = recordings.recorder(slug) if recordings is not None else None
            _measure(slug, media)
        self._titles = rooms
        self._demo = demo
        self._zone = zone
        self._loop: asyncio.Task[None] | None = None
        self._stopping: set[asyncio.Task[None]] = set()  # background stops and claims

    async def start(self) -> None:
        if self.recordings is not None:
            self.recordings.prune(time.time())
        if self._demo:
            for slug, title in self._titles.items():
                self.rooms[slug].demo = DemoSource(title, self._zone)
                self.rooms[slug].demo.relay.sinks.append(self.rooms[slug].hls)  # type: ignore[union-attr]
                self.rooms[slug].demo.start()  # type: ignore[union-attr]
        for slug in self.rooms:
            self._announce(slug)
        self._loop = asyncio.create_task(self._keep_directory(), name="media-directory")

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        for slug, media in self.rooms.items():
            for player in list(media.players.values()):
                await player.stop("server stopping")
            if media.incoming is not None:
                await media.incoming.stop("server stopping")
            if media.publisher is not None:
                await media.publisher.stop("server stopping")
                await self.directory.release(slug)
            if media.demo is not None:
                await media.demo.stop()
        await self.directory.close()

    # -- the room's source ---------------------------------------------------------------------
    def relay(self, room_id: str) -> Relay | None:
        """The room's source here, once it has a picture to show (a publisher's first keyframe)."""
        media = self.rooms[room_id]
        if media.publisher is not None and media.publisher.relay.ready:
            return media.publisher.relay
        if media.remote is None and media.demo is not None:
            return media.demo.relay
        return None

    def status(self, room_id: str) -> dict[str, Any]:
        media = self.rooms[room_id]
        relay = self.relay(room_id)
        if relay is not None:
            stream = media.stream_ids.setdefault(id(relay), secrets.token_hex(4))
            return protocol.video_live(stream)
        if media.remote is not None:
            return protocol.video_live(str(media.remote.get("stream", "")))
        return protocol.video_offline()

    def _announce(self, room_id: str) -> None:
        """Tell the room's pages if its status changed; end players of a source that is gone."""
        media = self.rooms[room_id]
        current = self.relay(room_id)
        media.hls.follow(current)
        for player in list(media.players.values()):
            if player.relay is not current:
                self._in_background(player.stop("the room's source changed"))
        status = self.status(room_id)
        if status != media.announced:
            media.announced = status
            self._announce_status(room_id, status, status["status"] == "live")  # offline: the default, not kept

    # -- publishers ----------------------------------------------------------------------------
    async def publish(self, room_id: str, offer: Offer, software: str) -> tuple[str, str]:
        """Start a publisher, which replaces the room's current one here or on another process
        once it has delivered its first keyframe (one that posts an offer and never connects
        leaves the live stream as it is); returns the session's id and the SDP answer."""
        media = self.rooms[room_id]
        publisher = Publisher(offer, software)
        publisher.relay.sinks.append(media.hls)
        publisher.relay.on_ready = lambda: self._publisher_ready(room_id, publisher)
        try:
            answer = await publisher.start()
        except ValueError as error:  # aiortc refusing what our own checks let through
            await publisher.stop("the offer could not be answered")
            raise OfferRefused(f"the offer could not be answered: {error}") from None
        publisher.peer.on_end(lambda: self._publisher_ended(room_id, publisher))
        if media.publisher is None:
            media.publisher = publisher
        else:
            waiting, media.incoming = media.incoming, publisher
            if waiting is not None:
                self._in_background(waiting.stop("replaced by a newer publisher"))
        self._announce(room_id)
        return publisher.id, answer

    def _publisher_ready(self, room_id: str, publisher: Publisher) -> None:
        """Its first keyframe: the room is live from it, here, and other processes may learn it."""
        media = self.rooms[room_id]
        if media.incoming is publisher:
            previous, media.publisher, media.incoming = media.publisher, publisher, None
            if previous is not None:
                self._in_background(previous.stop("replaced by a new publisher"))
        media.remote = None
        self._announce(room_id)
        self._in_background(self._claim_room(room_id, publisher))

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    async def _claim_room(self, room_id: str, publisher: Publisher) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self.directory.claim(room_id, self._claim(room_id, publisher))

    async def _publisher_ended(self, room_id: str, publisher: Publisher) -> None:
        media = self.rooms[room_id]
        publisher.relay.close()
        if media.incoming is publisher:
            media.incoming = None
        if media.publisher is publisher:
            media.publisher, media.incoming = media.incoming, None  # a waiting one goes on alone
            await self.directory.release(room_id)
        self._announce(room_id)

    async def stop_publishing(self, room_id: str, session_id: str) -> bool:
        media = self.rooms[room_id]
        for publisher in (media.publisher, media.incoming):
            if publisher is not None and publisher.id == session_id:
                await publisher.stop("the publisher ended the session")
                return True
        return False

    def _claim(self, room_id: str, publisher: Publisher) -> dict[str, Any]:
        return {
            "stream": self.status(room_id).get("stream", ""),
            "software": publisher.software,
            "since": publisher.started_at,
            "viewers": len(self.rooms[room_id].players),
            "recording": recorder.overview() if (recorder := self.rooms[room_id].hls.recorder) is not None else None,
        }

    # -- viewers -------------------------------------------------------------------------------
    async def play(self, room_id: str, offer: Offer, address: str | None = None) -> tuple[str, str]:
        """Start a player and return its id and the SDP answer; raises Elsewhere or Offline.
        ``address``: the client's, whose players may hold only MAX_CONNECTING_PER_ADDRESS of the
        connecting slots (None: not limited, as for a venue network's thousands of phones)."""
        relay = self.relay(room_id)
        if relay is None:
            claim = await self.directory.host(room_id)
            if claim is not None:
                raise Elsewhere(str(claim["url"]))
            raise Offline(room_id)
        players = self.rooms[room_id].players
        if self.players() >= self.seats:
            raise SeatsFull(f"all {self.seats} WebRTC seats of this process are taken: watch over HLS")
        if len(players) >= MAX_VIEWERS_PER_ROOM:
            raise Busy(f"this process already serves {MAX_VIEWERS_PER_ROOM} viewers of the room")
        if self.connecting() >= MAX_CONNECTING:
            raise Busy("too many viewers are connecting at once; try again in a few seconds")
        if address is not None and self.connecting(address) >= MAX_CONNECTING_PER_ADDRESS:
            raise Busy("too many players from this address are still connecting; try again in a few seconds")
        player = Player(relay, offer, address)
        try:
            answer = await player.start()
        except ValueError as error:  # aiortc refusing what our own checks let through
            await player.stop("the offer could not be answered")
            raise OfferRefused(f"the offer could not be answered: {error}") from None
        players[player.id] = player

        def forget() -> None:
            players.pop(player.id, None)

        player.peer.on_end(forget)
        if self.relay(room_id) is not relay:  # the source changed while we answered
            await player.stop("the room's source changed")
        return player.id, answer

    def players(self) -> int:
        """WebRTC players in every room: the seats taken."""
        return sum(len(media.players) for media in self.rooms.values())

    def connecting(self, address: str | None = None) -> int:
        """Players whose connection is not up yet, in every room (from ``address`` only, if given)."""
        return sum(
            1
            for media in self.rooms.values()
            for player in media.players.values()
            if not player.peer.connected.is_set() and (address is None or player.address == address)
        )

    async def stop_playing(self, room_id: str, session_id: str) -> bool:
        player = self.rooms[room_id].players.get(session_id)
        if player is None:
            return False
        await player.stop("the viewer ended the session")
        return True

    # -- what the admin sees -------------------------------------------------------------------
    def overview(self, room_id: str, *, recording: bool = True) -> dict[str, Any]:
        """The room's video as the admin sees it; ``recording`` False leaves the recording out
        (None) uncounted: its disk use reads every run of the room's directory."""
        media = self.rooms[room_id]
        publisher: dict[str, Any] | None = None
        viewers = len(media.players)
        if media.publisher is not None:
            publisher = {"software": media.publisher.software, "since": media.publisher.started_at, "here": True}
        elif media.remote is not None:
            publisher = {
                "software": media.remote.get("software"),
                "since": media.remote.get("since"),
                "here": False,
                "process": media.remote.get("url"),
            }
            viewers = int(media.remote.get("viewers", 0))
        elif media.demo is not None:
            publisher = {"software": "demo", "since": media.demo.started_at, "here": True}
        return {
            "live": self.status(room_id)["status"] == "live",
            "publisher": publisher,
            "viewers": viewers,
            "hls": media.hls.overview(),
            "recording": self._recording(room_id) if recording else None,
        }

    def _recording(self, room_id: str) -> dict[str, Any] | None:
        """The room's recording as the admin sees it: the hosting process's, from its claim in the
        directory, when another process hosts the publisher (it records there: recording.py)."""
        media = self.rooms[room_id]
        here = media.hls.recorder.overview() if media.hls.recorder is not None else None
        remote = media.remote.get("recording") if media.publisher is None and media.remote is not None else None
        if here is not None and isinstance(remote, dict):
            return {**remote, "bytes": here["bytes"]}  # the shared disk, as counted here just now
        return here

    # -- HLS (packaged by hls.py, answered by live/web/hls.py) ---------------------------------
    def hls_host(self, room_id: str) -> str | None:
        """The URL of the process whose publisher feeds the room, when it is not this one: its
        HLS viewers are redirected there, like WHEP's (from the directory, refreshed every second)."""
        media = self.rooms[room_id]
        if media.publisher is None and media.remote is not None:
            return str(media.remote.get("url", "")) or None
        return None

    def hls_served(self, room_id: str, kind: str) -> None:
        """An HLS file went out: ``kind`` is "playlist", "init" or "segment" (admin page, /metrics)."""
        self.rooms[room_id].hls.requests[kind] += 1
        metrics.HLS_REQUESTS.labels(room_id, kind).inc()

    def hls_watched(self, room_id: str) -> None:
        """An HLS player asked for the playlist: a demo source keeps (or starts) encoding."""
        media = self.rooms[room_id]
        if media.demo is not None and self.relay(room_id) is media.demo.relay:
            media.demo.watch()

    # -- other processes -----------------------------------------------------------------------
    async def _keep_directory(self) -> None:
        while True:
            await asyncio.sleep(DIRECTORY_INTERVAL)
            if self.recordings is not None:
                self.recordings.prune()  # retention: once an hour
            try:
                await self.sync_directory()
            except (RedisError, OSError) as error:
                log.warning("video directory unreachable: %s", error)

    async def sync_directory(self) -> None:
        hosted = {
            room_id: self._claim(room_id, media.publisher)
            for room_id, media in self.rooms.items()
            if media.publisher is not None and media.publisher.relay.ready
        }
        for room_id in await self.directory.refresh(hosted):
            publisher = self.rooms[room_id].publisher
            if publisher is not None:
                await publisher.stop("another process's publisher took over the room")
        elsewhere = await self.directory.elsewhere()
        for room_id, media in self.rooms.items():
            feeding = media.publisher is not None and media.publisher.relay.ready
            media.remote = None if feeding else elsewhere.get(room_id)
            self._announce(room_id)
