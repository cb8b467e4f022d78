"""Every use of aiortc's (and aioice's) private internals, in one place.

aiortc has no public API for forwarding encoded media: a receiver always decodes and a sender
always encodes. This module opens both ends so that the server relays a publisher's encoded
frames to every viewer untouched, and adjusts three behaviours that real publishers trip on.
aiortc is pinned (pyproject.toml) and ``tests/test_media_internals.py`` asserts that each private
name used here still exists with the shape we rely on, so an upgrade fails loudly in the tests
rather than quietly in front of an audience.

What is touched, and why:

* ``RTCRtpReceiver.__decoder_queue``: the receiver hands every complete encoded frame (out of its
  jitter buffer, NACKs and PLIs already handled) to this queue for its decoder thread. We swap in
  a queue that passes the frame to a callback instead, so nothing is ever decoded.
* ``RTCRtpReceiver._send_rtcp_pli``: to ask the publisher for a keyframe.
* ``RTCRtpSender.__encoder`` and ``Encoder.pack``: a sender packs what its track returns when that
  is not a decoded ``Frame``. We install an "encoder" whose ``pack`` returns RTP payloads the room
  has already cut once, so a viewer costs RTP headers and SRTP, not an encoder.
* ``RTCRtpSender._send_keyframe``: called when a viewer sends a PLI or FIR; we route it to the
  room (which asks the publisher, rate-limited) instead of to an encoder that does not exist.
* ``H264Encoder._split_bitstream``/``_packetize`` and ``Vp8Encoder._packetize``: aiortc's own RTP
  packetizers, run once per frame per room.
* ``RTCPeerConnection.__certificates`` and ``RTCCertificate._create_ssl_context``: one certificate
  per process (not one EC key per viewer), whose DTLS context also offers ECDHE-RSA suites:
  aiortc's list has only ECDSA suites, so a publisher with an RSA certificate cannot connect.
* aioice ``Connection._query_consent_task``: consent freshness (RFC 7675). FFmpeg's WHIP muxer
  never answers consent checks, so aioice would drop it after ~30 s; for publishers we stop the
  checks and watch their media instead (``ingest.py``).
* ``RTCDtlsTransport._role`` and ``RTCIceTransport._send``: when we are the DTLS client, our first
  DTLS datagram (the ClientHello) goes out twice. FFmpeg's WHIP muxer is the DTLS server by
  default (``a=setup:passive``) and its ICE loop reads that first datagram and drops it before
  starting OpenSSL, which then waits for our retransmission: OpenSSL's first timer is 1 s, so
  every FFmpeg publish (and restart) cost a second. Measured with FFmpeg 9: 1.10 s from POST to
  live before, 0.1 s after (docs/VIDEO.md). A conforming server takes the copy for a retransmission.
"""

from __future__ import annotations

import datetime
import queue
from collections.abc import Callable, Iterator
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender
from aiortc.codecs.base import Encoder
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcdtlstransport import RTCCertificate
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from OpenSSL import SSL

# aiortc's ECDSA suites first, then the same with RSA authentication.
DTLS_CIPHERS = (
    b"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:"
    b"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA"
)

FrameSink = Callable[[RTCRtpCodecParameters, bytes, int], None]


# -- receiving: encoded frames out of the jitter buffer ---------------------------------------
class _TapQueue(queue.Queue[Any]):
    """Stands in for the decoder queue: frames go to the sink; only the stop marker is queued,
    so the (idle) decoder thread still ends and the receiver's track still closes."""

    def __init__(self, sink: FrameSink) -> None:
        super().__init__()
        self._sink = sink

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:
            super().put(None)
            return
        codec, frame = item
        assert isinstance(frame, JitterFrame)
        self._sink(codec, frame.data, frame.timestamp)


def tap_encoded_frames(receiver: RTCRtpReceiver, sink: FrameSink) -> None:
    """Send the receiver's complete encoded frames to ``sink(codec, data, timestamp)`` instead of
    its decoder. ``data`` is Annex B for H.264, a raw frame for VP8 and Opus; ``timestamp`` is in
    the codec's clock, counted from the first frame. Call before the connection starts."""
    receiver._RTCRtpReceiver__decoder_queue = _TapQueue(sink)  # type: ignore[attr-defined]


async def request_keyframe(receiver: RTCRtpReceiver) -> None:
    """Send a PLI (RFC 4585) for every source the receiver heard in the last 10 s."""
    for source in receiver.getSynchronizationSources():
        await receiver._send_rtcp_pli(source.source)


# -- sending: payloads cut once, sent to many ---------------------------------------------------
class Prepacked:
    """What a forwarding track returns: RTP payloads of one frame and its timestamp."""

    __slots__ = ("payloads", "timestamp")

    def __init__(self, payloads: list[bytes], timestamp: int) -> None:
        self.payloads = payloads
        self.timestamp = timestamp


class _PrepackedEncoder(Encoder):
    def encode(self, frame: Any, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        raise TypeError("a forwarding sender never encodes")

    def pack(self, packet: Any) -> tuple[list[bytes], int]:
        assert isinstance(packet, Prepacked)
        return packet.payloads, packet.timestamp


def send_prepacked(sender: RTCRtpSender, on_keyframe_request: Callable[[], None]) -> None:
    """Make ``sender`` send ``Prepacked`` payloads as they are, and report viewers' PLI/FIR to
    ``on_keyframe_request``. Call before the connection starts."""
    sender._RTCRtpSender__encoder = _PrepackedEncoder()  # type: ignore[attr-defined]
    setattr(sender, "_send_keyframe", on_keyframe_request)  # noqa: B010 (an instance override)


def packetize(mime_type: str, data: bytes, picture_id: int) -> list[bytes]:
    """Cut one encoded frame into RTP payloads with aiortc's own packetizers."""
    kind = mime_type.lower()
    if kind == "video/h264":
        nal_units: Iterator[bytes] = H264Encoder._split_bitstream(data)
        return H264Encoder._packetize(nal_units)
    if kind == "video/vp8":
        return Vp8Encoder._packetize(data, picture_id)
    return [data]  # Opus: one frame, one payload


# -- connections: certificate, ciphers, consent -------------------------------------------------
class _WideCipherCertificate(RTCCertificate):
    def _create_ssl_context(self, srtp_profiles: list[Any]) -> SSL.Context:
        context = super()._create_ssl_context(srtp_profiles)
        context.set_cipher_list(DTLS_CIPHERS)
        return context


_certificate: _WideCipherCertificate | None = None


def _process_certificate() -> _WideCipherCertificate:
    """One certificate for the process, renewed a day before it expires (aiortc's last 30 days)."""
    global _certificate
    soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    if _certificate is None or _certificate.expires < soon:
        _certificate = _WideCipherCertificate.generateCertificate()
    return _certificate


def prepare_connection(pc: RTCPeerConnection) -> None:
    """Use the process certificate (and its wider cipher list). Call before any description."""
    pc._RTCPeerConnection__certificates = [_process_certificate()]  # type: ignore[attr-defined]


def repeat_client_hello(pc: RTCPeerConnection) -> int:
    """Send our first DTLS datagram twice on each transport where we are the DTLS client; returns
    on how many. Call after setLocalDescription (which settles the role) and before ICE connects."""
    repeated = 0
    seen: set[int] = set()
    for transceiver in pc.getTransceivers():
        dtls = transceiver.receiver.transport
        ice: Any = dtls.transport
        if id(ice) in seen or dtls._role != "client":
            continue
        seen.add(id(ice))
        ice._send = _first_dtls_datagram_twice(ice)
        repeated += 1
    return repeated


def _first_dtls_datagram_twice(ice: Any) -> Callable[[bytes], Any]:
    send = ice._send  # the ICE connection's send, which RTCIceTransport keeps as an attribute

    async def send_first_twice(data: bytes) -> None:
        await send(data)
        if data and 19 < data[0] < 64:  # a DTLS record (RFC 7983): the ClientHello
            ice._send = send  # everything after goes out once
            await send(data)

    return send_first_twice


def stop_consent_checks(pc: RTCPeerConnection) -> int:
    """Stop ICE consent freshness on the connection's transports; returns how many were running.
    Call once ICE has completed (consent checks start when it does)."""
    stopped = 0
    seen: set[int] = set()
    for transceiver in pc.getTransceivers():
        ice = transceiver.receiver.transport.transport
        connection = ice._connection
        if id(connection) in seen:
            continue
        seen.add(id(connection))
        task = connection._query_consent_task
        if task is not None and not task.done():
            task.cancel()
            connection._query_consent_task = None
            stopped += 1
    return stopped
