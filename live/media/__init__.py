"""Live video in every room: WHIP in from the venue, WebRTC out to every viewer, no per-viewer
encoding, and HLS for every other player and cache. docs/VIDEO.md tells the whole story; the
modules, by concept:

- ``offer.py``: what we accept in an SDP offer (and the mDNS candidates we drop)
- ``passthrough.py``: the only module that touches aiortc's internals
- ``relay.py``: one source's encoded frames fanned out to every viewer, with a keyframe cache
- ``peer.py``, ``ingest.py``, ``playback.py``: a peer connection; publisher (WHIP) and viewer
  (WHEP) sessions on it
- ``service.py``: every room's source, viewers, and live/offline announcements
- ``directory.py``: which process hosts a room's stream (Redis)
- ``demo.py``, ``pattern.py``: ``live serve --demo``
- ``hls.py``: each room's HLS packager (fed by the relay, outliving it), with ``h264.py`` (what an
  access unit says, undecoded), ``fmp4.py`` (the MP4 muxer), ``aac.py`` (Opus to AAC, the one
  transcode) and ``playlist.py`` (the live playlist's rules); ``live/web/hls.py`` serves them
- ``recording.py``: every room's segments kept on disk; ``replay.py``: a session's VOD playlist
  over them, and admins' replay settings; ``live/web/replay.py`` serves them

Its HTTP endpoints are a transport like the others: live/web/video.py (WHIP/WHEP), live/web/hls.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .directory import LocalDirectory, RedisDirectory
from .recording import Recordings
from .service import MediaService

if TYPE_CHECKING:
    from ..config import EventFile
    from ..settings import ServeSettings
    from .service import Announce

__all__ = ["MediaService", "create_media"]


def create_media(settings: ServeSettings, event_file: EventFile, announce: Announce) -> MediaService:
    """Every room's video; ``announce`` carries each room's video status to its pages."""
    rooms = {room.slug: room.name.en for room in event_file.rooms}
    directory = (
        RedisDirectory(settings.redis, event_file.event.slug, list(rooms), settings.own_url)
        if settings.redis
        else LocalDirectory()
    )
    recordings = Recordings(
        settings.recordings_path, int(settings.recordings_max_mb * 1024 * 1024), settings.recordings_keep_days
    )
    return MediaService(
        announce,
        rooms,
        directory,
        demo=settings.demo,
        seats=settings.webrtc_seats,
        recordings=recordings,
        zone=event_file.zone,
    )
