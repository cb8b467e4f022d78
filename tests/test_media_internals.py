"""The aiortc and aioice internals that live/media/passthrough.py relies on, asserted one by one.

aiortc is pinned in pyproject.toml. If an upgrade renames or reshapes any of these, this module
fails first and names what moved; fix passthrough.py (and only it), then this test.
"""

from __future__ import annotations

import asyncio
import inspect
import queue
from importlib.metadata import version
from types import SimpleNamespace

import aioice.ice
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender
from aiortc.codecs.base import Encoder
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcdtlstransport import SRTP_PROFILES, RTCCertificate
from aiortc.rtcicetransport import RTCIceTransport
from aiortc.rtcrtpreceiver import decoder_worker
from OpenSSL import SSL

from live.media import passthrough


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_the_pinned_version() -> None:
    assert version("aiortc") == "1.16.0", "aiortc changed: re-check live/media/passthrough.py, then this file"


async def test_receiver_hands_encoded_frames_to_a_decoder_queue() -> None:
    pc = RTCPeerConnection()
    receiver = pc.addTransceiver("video", direction="recvonly").receiver
    assert isinstance(receiver._RTCRtpReceiver__decoder_queue, queue.Queue)  # type: ignore[attr-defined]
    # _handle_rtp_packet puts (codec, JitterFrame) on that queue; the worker reads (codec, frame).
    source = inspect.getsource(RTCRtpReceiver._handle_rtp_packet)
    assert "self.__decoder_queue.put((codec, encoded_frame))" in source
    assert "encoded_frame.timestamp = self.__timestamp_mapper.map(" in source
    assert "task = input_q.get()" in inspect.getsource(decoder_worker)
    assert parameters(JitterFrame) == ["data", "timestamp"]
    assert parameters(RTCRtpReceiver._send_rtcp_pli) == ["self", "media_ssrc"]
    assert inspect.iscoroutinefunction(RTCRtpReceiver._send_rtcp_pli)
    await pc.close()


async def test_the_tap_takes_the_decoders_place() -> None:
    pc = RTCPeerConnection()
    receiver = pc.addTransceiver("video", direction="recvonly").receiver
    seen: list[tuple[bytes, int]] = []
    passthrough.tap_encoded_frames(receiver, lambda codec, data, timestamp: seen.append((data, timestamp)))
    tap = receiver._RTCRtpReceiver__decoder_queue  # type: ignore[attr-defined]
    tap.put(("codec", JitterFrame(b"frame", 42)))
    tap.put(None)  # the stop marker still reaches the decoder thread
    assert seen == [(b"frame", 42)]
    assert tap.get_nowait() is None
    await pc.close()


async def test_sender_packs_whatever_its_track_returns_with_its_encoder() -> None:
    pc = RTCPeerConnection()
    sender = pc.addTransceiver("video", direction="sendonly").sender
    assert hasattr(sender, "_RTCRtpSender__encoder")
    source = inspect.getsource(RTCRtpSender._next_encoded_frame)
    assert "if self.__encoder is None:" in source
    assert "payloads, timestamp = self.__encoder.pack(data)" in source
    assert "isinstance(data, Frame)" in source
    assert "self._send_keyframe()" in inspect.getsource(RTCRtpSender._handle_rtcp_packet)
    assert parameters(RTCRtpSender._send_keyframe) == ["self"]
    assert parameters(Encoder.pack) == ["self", "packet"]
    called: list[str] = []
    passthrough.send_prepacked(sender, lambda: called.append("pli"))
    sender._send_keyframe()
    assert called == ["pli"]
    encoder = sender._RTCRtpSender__encoder  # type: ignore[attr-defined]
    assert encoder.pack(passthrough.Prepacked([b"a", b"b"], 7)) == ([b"a", b"b"], 7)
    await pc.close()


def test_packetizers() -> None:
    assert parameters(H264Encoder._split_bitstream) == ["buf"]
    assert parameters(H264Encoder._packetize) == ["packages"]
    assert parameters(Vp8Encoder._packetize) == ["buffer", "picture_id"]
    nal = b"\x65" + bytes(3000)  # an IDR slice larger than one packet: FU-A fragments
    payloads = passthrough.packetize("video/H264", b"\x00\x00\x00\x01" + nal, 0)
    assert len(payloads) == 3 and all(p[0] & 0x1F == 28 for p in payloads)
    assert passthrough.packetize("audio/opus", b"opus", 0) == [b"opus"]
    assert len(passthrough.packetize("video/VP8", bytes(2000), 5)) == 2


async def test_certificates_and_cipher_list() -> None:
    pc = RTCPeerConnection()
    assert isinstance(pc._RTCPeerConnection__certificates, list)  # type: ignore[attr-defined]
    assert parameters(RTCCertificate._create_ssl_context) == ["self", "srtp_profiles"]
    passthrough.prepare_connection(pc)
    certificate = pc._RTCPeerConnection__certificates[0]  # type: ignore[attr-defined]
    context = certificate._create_ssl_context(srtp_profiles=SRTP_PROFILES)
    connection = SSL.Connection(context)
    ciphers = connection.get_cipher_list()
    assert "ECDHE-ECDSA-AES128-GCM-SHA256" in ciphers  # aiortc's own
    assert "ECDHE-RSA-AES128-GCM-SHA256" in ciphers  # added: publishers with RSA certificates
    await pc.close()


async def test_consent_freshness_task() -> None:
    assert "self._query_consent_task = asyncio.create_task(self.query_consent())" in inspect.getsource(
        aioice.ice.Connection.connect
    )
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")
    ice = pc.getTransceivers()[0].receiver.transport.transport
    assert isinstance(ice, RTCIceTransport) and isinstance(ice._connection, aioice.ice.Connection)
    await pc.close()


def test_consent_would_drop_a_silent_peer_after_about_30_seconds() -> None:
    # Why publishers need passthrough.stop_consent_checks: FFmpeg never answers these checks.
    assert aioice.ice.CONSENT_FAILURES * aioice.ice.CONSENT_INTERVAL == 30


async def test_stop_consent_checks_cancels_the_task() -> None:
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")
    ice = pc.getTransceivers()[0].receiver.transport.transport
    connection = ice._connection
    connection._query_consent_task = asyncio.create_task(asyncio.sleep(60))
    assert passthrough.stop_consent_checks(pc) == 1
    assert connection._query_consent_task is None
    await pc.close()


async def test_repeat_client_hello_wraps_the_ice_send_of_the_dtls_client() -> None:
    offerer, answerer = RTCPeerConnection(), RTCPeerConnection()
    offerer.addTransceiver("video", direction="sendonly")
    await offerer.setLocalDescription(await offerer.createOffer())
    await answerer.setRemoteDescription(offerer.localDescription)
    await answerer.setLocalDescription(await answerer.createAnswer())
    dtls = answerer.getTransceivers()[0].receiver.transport
    assert dtls._role == "client"  # an answer to a=setup:actpass: aiortc is the DTLS client
    ice = dtls.transport
    assert ice._send == ice._connection.send  # an instance attribute, which DTLS sends through
    assert "await self.transport._send(data)" in inspect.getsource(type(dtls)._write_ssl)
    assert passthrough.repeat_client_hello(answerer) == 1
    sent: list[bytes] = []

    async def record(data: bytes) -> None:
        sent.append(data)

    transport = SimpleNamespace(_send=record)
    transport._send = passthrough._first_dtls_datagram_twice(transport)
    await transport._send(b"\x16client hello")  # content type 22: a handshake record
    await transport._send(b"\x16key exchange")
    assert sent == [b"\x16client hello", b"\x16client hello", b"\x16key exchange"]
    await offerer.close()
    await answerer.close()
