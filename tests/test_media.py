"""Live video: what offers we accept, how the relay starts a viewer, the WHIP/WHEP endpoints'
answers (errors included) against a real ``live serve``, a second publisher, a viewer that
vanishes, and ``--demo``. The long FFmpeg run is in test_media_long.py, two processes in
test_media_processes.py, the browsers in tests/browser/test_video.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from bench.whep_watcher import Watcher
from live.media.demo import clock_text
from live.media.offer import MAX_CANDIDATES, OfferRefused, read_offer
from live.media.pattern import text_spans
from live.media.relay import ForwardTrack, Relay, Viewer, is_keyframe
from live.media.service import MAX_CONNECTING_PER_ADDRESS
from tests.conftest import ADMIN_KEY, LiveServer
from tests.livetools import Person, until

PUBLISHER_KEY = "publisher-key-for-media-tests"
REPO = Path(__file__).resolve().parent.parent

OFFER = """v=0
o=- 1 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
m=video 9 UDP/TLS/RTP/SAVPF 96 102
c=IN IP4 0.0.0.0
a=mid:0
a=ice-ufrag:abcd
a=ice-pwd:abcdefghijklmnopqrstuvwx
a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF
a=setup:actpass
a={direction}
a=rtcp-mux
a=rtpmap:96 VP8/90000
a=rtpmap:102 H264/90000
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
a=candidate:1 1 udp 2122260223 4f2c1b8e-1f8a-4b7e-9b8e-1b2c3d4e5f60.local 54321 typ host generation 0
a=candidate:2 1 udp 2122260223 192.0.2.10 54322 typ host generation 0
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=mid:1
a={direction}
a=rtcp-mux
a=rtpmap:111 opus/48000/2
"""


def offer(direction: str = "sendonly", text: str = OFFER) -> bytes:
    return text.replace("{direction}", direction).replace("\n", "\r\n").encode()


# -- offers ------------------------------------------------------------------------------------
def test_an_offer_prefers_h264_and_opus_and_loses_its_mdns_candidates() -> None:
    checked = read_offer(offer(), sending=True)
    assert checked.video_codecs == ("h264", "vp8") and checked.audio_codec == "opus"
    assert ".local" not in checked.sdp
    assert "192.0.2.10" not in checked.sdp  # a private-range address: not checked unless allowed
    allowed = read_offer(offer(), sending=True, allow_private=True)
    assert "192.0.2.10 54322" in allowed.sdp and ".local" not in allowed.sdp


def candidate(number: int, address: str) -> str:
    return f"a=candidate:{number} 1 udp 2122260223 {address} {40000 + number} typ host generation 0\n"


def test_an_offer_keeps_only_candidates_the_server_may_check_and_a_few_of_them() -> None:
    """An anonymous viewer must not aim the server's STUN packets at its own network or at
    anyone: no loopback, link-local, unspecified, multicast or reserved address, no name to look
    up, private ranges only when allowed, and at most MAX_CANDIDATES (400 made ~2,000 packets)."""
    refused = ["127.0.0.1", "::1", "169.254.3.4", "fe80::1", "0.0.0.0", "224.0.0.1", "240.0.0.1", "evil.example"]
    private = ["10.1.2.3", "172.16.0.9", "192.168.1.20", "fd00::5"]
    lines = "".join(candidate(n, a) for n, a in enumerate(refused + private))
    text = OFFER.replace("a=candidate:1 1", lines + "a=candidate:1 1")
    checked = read_offer(offer(text=text), sending=True)
    assert "a=candidate:" not in checked.sdp  # 192.0.2.10 is a documentation (private) range too
    allowed = read_offer(offer(text=text), sending=True, allow_private=True)
    kept = [line.split()[4] for line in allowed.sdp.splitlines() if line.startswith("a=candidate:")]
    assert kept == [*private, "192.0.2.10"]
    many = OFFER.replace("a=candidate:1 1", "".join(candidate(n, f"10.0.{n}.1") for n in range(400)) + "a=candidate:1 1")
    capped = read_offer(offer(text=many), sending=True, allow_private=True)
    assert capped.sdp.count("a=candidate:") == MAX_CANDIDATES


_VIDEO_SECTION = OFFER[OFFER.index("m=video") : OFFER.index("m=audio")]
VIDEO_TWICE = OFFER.replace("m=audio", _VIDEO_SECTION.replace("a=mid:0", "a=mid:2") + "m=audio")


def test_an_offer_with_a_repeated_media_section_is_refused_clearly() -> None:
    with pytest.raises(OfferRefused, match="more than one video section"):
        read_offer(offer("recvonly", VIDEO_TWICE), sending=False)


@pytest.mark.parametrize(
    ("body", "sending", "reason"),
    [
        (b"hello", True, "must start with v=0"),
        (offer().replace(b"a=fingerprint", b"a=xfingerprint"), True, "no DTLS fingerprint"),
        (offer("recvonly"), True, "does not send"),
        (offer("sendonly"), False, "does not receive"),
        (offer().replace(b"H264/90000", b"H265/90000").replace(b"VP8/90000", b"AV1/90000"), True, "H.264"),
        (
            offer().replace(b"profile-level-id=42e01f", b"profile-level-id=640c1f").replace(b"VP8", b"AV1"),
            True,
            "H.264",
        ),
        (offer().replace(b"opus/48000/2", b"PCMU/8000"), True, "Opus"),
        (b"v=0\r\n" + bytes(70_000), True, "larger than"),
        (b"\xff\xfe", True, "UTF-8"),
    ],
)
def test_offers_we_refuse_say_why(body: bytes, sending: bool, reason: str) -> None:
    with pytest.raises(OfferRefused, match=reason):
        read_offer(body, sending)


# -- the relay ---------------------------------------------------------------------------------
IDR = b"\x00\x00\x00\x01\x67\x42\x00\x00\x00\x01\x68\xce\x00\x00\x01\x65\x88"
P_FRAME = b"\x00\x00\x00\x01\x41\x9a"


def test_keyframes_are_recognised() -> None:
    assert is_keyframe("h264", IDR) and not is_keyframe("h264", P_FRAME)
    assert is_keyframe("vp8", b"\x10\x02") and not is_keyframe("vp8", b"\x11\x02")
    assert is_keyframe("opus", b"\x01")


async def test_a_newcomer_gets_the_gop_squeezed_into_clock_ticks() -> None:
    relay = Relay("h264", None)
    relay.on_video(P_FRAME, 0)  # before any keyframe: not cached
    relay.on_video(IDR, 3000)
    relay.on_video(P_FRAME, 6000)
    relay.on_video(P_FRAME, 9000)
    viewer = Viewer(video=ForwardTrack("video"))
    relay.add(viewer)
    assert viewer.video is not None
    got = [await viewer.video.recv() for _ in range(3)]
    assert [frame.timestamp for frame in got] == [8998, 8999, 9000]
    relay.on_video(P_FRAME, 12000)
    assert (await viewer.video.recv()).timestamp == 12000


async def test_a_long_gop_is_not_replayed_a_keyframe_is_asked_for() -> None:
    asked: list[float] = []
    relay = Relay("h264", None, request_keyframe=lambda: asked.append(time.monotonic()))
    relay.on_video(IDR, 0)
    for n in range(1, 60):
        relay.on_video(P_FRAME, n * 3000)  # 2 s of deltas: a browser that sends keyframes on request
    viewer = Viewer(video=ForwardTrack("video"))
    relay.add(viewer)
    relay.add(Viewer(video=ForwardTrack("video")))
    assert len(asked) == 1, "keyframe requests are rate-limited"
    relay.on_video(P_FRAME, 200_000)
    relay.on_video(IDR, 203_000)
    assert viewer.video is not None
    assert (await viewer.video.recv()).timestamp == 203_000  # the keyframe first, nothing before it


def test_the_demo_font_draws_text() -> None:
    rows = text_spans("1:", 2)
    assert len(rows) == 14 and rows[0] == [(4, 6)]  # the top of the "1"


# -- the endpoints, against a real server --------------------------------------------------------
@pytest.fixture
def server(start_live: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch) -> LiveServer:
    monkeypatch.setenv("LIVE_PUBLISHER_KEY_MAIN", PUBLISHER_KEY)
    return start_live()


@pytest.fixture
def endpoints(serve_live: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch) -> LiveServer:
    """The same, served in the test process: for the tests that only talk HTTP to the endpoints."""
    monkeypatch.setenv("LIVE_PUBLISHER_KEY_MAIN", PUBLISHER_KEY)
    return serve_live()


def ffmpeg_publisher(
    url: str, key: str, seconds: float, size: str = "320x180", rate: int = 15, extra: tuple[str, ...] = (),
    log_level: str = "error", stderr: int | None = None,
) -> subprocess.Popen[bytes]:
    """FFmpeg's WHIP muxer publishing a generated clip: H.264 baseline (a keyframe a second) + Opus."""
    import imageio_ffmpeg

    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", log_level, "-re",
               "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
               "-c:v", "libx264", "-profile:v", "baseline", "-preset", "ultrafast", "-tune", "zerolatency",
               "-g", str(rate), "-bf", "0", "-b:v", "600k", "-c:a", "libopus", "-b:a", "48k", "-ar", "48000", "-ac", "2",
               "-t", str(seconds), *extra, "-f", "whip", "-authorization", key, url]  # fmt: skip
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, stderr=stderr)


def video_status(server: LiveServer) -> dict[str, object]:
    return httpx.get(f"{server.url}/api/rooms/main/video").json()  # type: ignore[no-any-return]


def sdp_post(server: LiveServer, path: str, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", content=body, headers={"Content-Type": "application/sdp", **headers})


def test_whip_and_whep_errors(endpoints: LiveServer) -> None:
    server = endpoints
    bearer = {"Authorization": f"Bearer {PUBLISHER_KEY}"}
    cases = [
        (sdp_post(server, "/api/rooms/nowhere/whip", offer(), **bearer), 404, "not_found"),
        (sdp_post(server, "/api/rooms/nowhere/whep", offer("recvonly")), 404, "not_found"),
        (sdp_post(server, "/api/rooms/main/whip", offer()), 401, "unauthorized"),
        (sdp_post(server, "/api/rooms/main/whip", offer(), Authorization="Bearer wrong-key"), 401, "unauthorized"),
        (
            sdp_post(server, "/api/rooms/main/whip", offer(), Authorization=f"Basic {PUBLISHER_KEY}"),
            401,
            "unauthorized",
        ),
        (sdp_post(server, "/api/rooms/main/whip", b"not sdp", **bearer), 400, "invalid"),
        (sdp_post(server, "/api/rooms/main/whip", offer("recvonly"), **bearer), 400, "invalid"),
        (sdp_post(server, "/api/rooms/main/whep", b"v=1"), 400, "invalid"),
        (sdp_post(server, "/api/rooms/main/whep", offer("recvonly", VIDEO_TWICE)), 400, "invalid"),  # not a 500
        (
            httpx.post(f"{server.url}/api/rooms/main/whip", json={"sdp": "v=0"}, headers=bearer),
            415,
            "unsupported_media_type",
        ),
        (
            httpx.post(f"{server.url}/api/rooms/main/whep", content=b"v=0", headers={"Content-Type": "text/plain"}),
            415,
            "unsupported_media_type",
        ),
        (sdp_post(server, "/api/rooms/main/whep", offer("recvonly")), 409, "offline"),
        (httpx.delete(f"{server.url}/api/rooms/main/whip/no-such-session"), 404, "not_found"),
        (httpx.delete(f"{server.url}/api/rooms/main/whep/no-such-session"), 404, "not_found"),
        (httpx.delete(f"{server.url}/api/rooms/nowhere/whep/no-such-session"), 404, "not_found"),
        (httpx.patch(f"{server.url}/api/rooms/main/whip/x", content=b"a=candidate"), 405, "invalid"),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.request.url
        assert response.headers["access-control-allow-origin"] == "*"
    unauthorized = sdp_post(server, "/api/rooms/main/whip", offer())
    assert unauthorized.headers["www-authenticate"] == "Bearer"
    preflight = httpx.options(
        f"{server.url}/api/rooms/main/whip",
        headers={"Origin": "https://studio.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    assert "Location" in preflight.headers["access-control-expose-headers"]
    assert preflight.headers["accept-post"] == "application/sdp"
    assert video_status(server)["status"] == "offline"


async def test_ffmpeg_publishes_a_second_publisher_replaces_it_and_viewers_are_told(server: LiveServer) -> None:
    viewer_page = Person(server)
    stream = await viewer_page.connect("main")
    await stream.receive_until("snapshot")

    first = ffmpeg_publisher(f"{server.url}/api/rooms/main/whip", PUBLISHER_KEY, 60)
    try:
        live = await stream.receive(timeout=15)
        assert live["type"] == "video" and live["status"] == "live"
        async with httpx.AsyncClient() as client:
            watcher = Watcher(f"{server.url}/api/rooms/main/whep")
            assert await watcher.start(client) == 201
            await until(
                lambda: watcher.video_frames > 15 and watcher.audio_frames > 40 and watcher.keyframes >= 1,
                what="video, audio and a keyframe",
            )
            assert watcher.first_frame is not None and watcher.first_frame < 1.0
            overview = httpx.get(f"{server.url}/api/admin/overview", headers={"Cookie": admin_cookie(server)}).json()
            main = next(room for room in overview["rooms"] if room["slug"] == "main")
            assert main["video"]["live"] is True and main["video"]["viewers"] == 1
            assert main["video"]["publisher"]["software"].startswith("Lavf")

            # The venue's encoder restarts without saying goodbye: the newcomer takes the room over.
            second = ffmpeg_publisher(f"{server.url}/api/rooms/main/whip", f"{ADMIN_KEY}", 60)
            try:
                # Offline for the moment between the old stream's end and the new one's first keyframe.
                replaced = await stream.receive(timeout=15)
                if replaced["status"] == "offline":
                    replaced = await stream.receive(timeout=15)
                assert replaced["status"] == "live" and replaced["stream"] != live["stream"]
                # The replaced stream's viewers were ended: that nothing more arrives can only be seen
                # over a while (one second, after a second for frames already on their way).
                await asyncio.sleep(1)
                frozen = watcher.video_frames
                await asyncio.sleep(1)
                assert watcher.video_frames == frozen
                again = Watcher(f"{server.url}/api/rooms/main/whep")
                assert await again.start(client) == 201
                await until(lambda: again.video_frames > 5, what="frames of the new stream")
                await again.stop(client)
            finally:
                second.send_signal(signal.SIGINT)  # FFmpeg ends its session with DELETE
                second.wait(timeout=10)
            gone = await stream.receive(timeout=5)
            assert gone == {"type": "video", "status": "offline"}
            await watcher.stop()
    finally:
        first.kill()
        first.wait()
        await stream.close()


def admin_cookie(server: LiveServer) -> str:
    admin = Person(server)
    admin.login(ADMIN_KEY)
    return admin.cookie


VANISHING_VIEWER = """
import asyncio, sys, httpx
from bench.whep_watcher import Watcher
async def main():
    async with httpx.AsyncClient() as client:
        watcher = Watcher(sys.argv[1])
        print(await watcher.start(client), flush=True)
        while not watcher.video_frames:
            await asyncio.sleep(0.05)
        print("watching", flush=True)
        await asyncio.sleep(60)
asyncio.run(main())
"""


async def test_a_viewer_who_vanishes_is_dropped_within_seconds(start_live: Callable[..., LiveServer]) -> None:
    server = start_live(extra=("--demo",))
    viewer = subprocess.Popen(
        [sys.executable, "-c", VANISHING_VIEWER, f"{server.url}/api/rooms/main/whep"],
        cwd=REPO, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert viewer.stdout is not None
    try:
        assert await asyncio.wait_for(asyncio.to_thread(viewer.stdout.readline), 20) == b"201\n"
        assert await asyncio.wait_for(asyncio.to_thread(viewer.stdout.readline), 20) == b"watching\n"  # frames
        await until(lambda: video_status(server)["viewers"] == 1, what="the server to count the viewer")
    finally:  # also when a wait failed: a live viewer would keep the reading thread, and pytest, waiting
        viewer.kill()  # no DELETE, no DTLS close: the process is simply gone
        viewer.wait()
    dropped_after = await until(lambda: video_status(server)["viewers"] == 0, timeout=20, what="the viewer dropped")
    assert dropped_after < 13


async def test_demo_streams_every_room_at_once(start_live: Callable[..., LiveServer]) -> None:
    server = start_live(extra=("--demo",))
    event = httpx.get(f"{server.url}/api/event").json()
    rooms = [room["slug"] for room in event["rooms"]][:2]
    async with httpx.AsyncClient() as client:
        watchers = [Watcher(f"{server.url}/api/rooms/{room}/whep", decode=True) for room in rooms]
        for watcher in watchers:
            assert await watcher.start(client) == 201
        await until(
            lambda: all(w.size == (640, 360) and w.video_frames >= 20 for w in watchers), what="decoded pictures"
        )
        for watcher in watchers:
            assert watcher.first_frame is not None and watcher.first_frame < 1.0
        late = Watcher(f"{server.url}/api/rooms/{rooms[0]}/whep")
        assert await late.start(client) == 201  # joins a running stream: gets the cached GOP
        await until(lambda: late.keyframes >= 1, what="the late viewer's first keyframe")
        assert late.first_frame is not None and late.first_frame < 1.0
        for watcher in [*watchers, late]:
            await watcher.stop(client)
    with httpx.Client(base_url=server.url) as admin:  # the publisher's software is for moderators
        assert admin.post("/api/login", json={"key": ADMIN_KEY}).status_code == 200
        status = json.loads(admin.get(f"/api/rooms/{rooms[0]}/video").text)
    assert status["live"] is True and status["publisher"]["software"] == "demo"


def rsa_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed RSA certificate, like GStreamer's or some OBS builds' DTLS certificate."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "publisher")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256())
    )  # fmt: skip
    key_path, cert_path = directory / "key.pem", directory / "cert.pem"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


async def test_a_publisher_with_an_rsa_certificate_connects(server: LiveServer, tmp_path: Path) -> None:
    cert, key = rsa_certificate(tmp_path)
    extra = ("-cert_file", str(cert), "-key_file", str(key))
    rsa_publisher = ffmpeg_publisher(f"{server.url}/api/rooms/main/whip", PUBLISHER_KEY, 30, extra=extra)
    try:
        await until(lambda: video_status(server)["status"] == "live", timeout=15, what="the RSA publisher")
        async with httpx.AsyncClient() as client:
            watcher = Watcher(f"{server.url}/api/rooms/main/whep")
            assert await watcher.start(client) == 201
            await until(lambda: watcher.video_frames > 10, what="frames from the RSA publisher")
            await watcher.stop(client)
    finally:
        rsa_publisher.kill()
        rsa_publisher.wait()


def test_whip_without_ice_credentials_is_a_clear_400_and_playback_is_rate_limited_per_address(
    serve_live: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIVE_PUBLISHER_KEY_MAIN", PUBLISHER_KEY)
    server = serve_live(loopback_venue=False)  # an ordinary address: a venue network's is not limited
    bearer = {"Authorization": f"Bearer {PUBLISHER_KEY}"}
    no_credentials = "\n".join(line for line in OFFER.splitlines() if not line.startswith(("a=ice-ufrag", "a=ice-pwd")))
    refused = sdp_post(server, "/api/rooms/main/whip", offer(text=no_credentials + "\n"), **bearer)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid"
    codes = [sdp_post(server, "/api/rooms/industry-chain/whep", b"v=0").status_code for _ in range(40)]
    assert codes[:20] == [400] * 20  # answered (badly formed, here) until the address's allowance runs out
    assert set(codes[20:]) == {400, 429} and codes.count(429) >= 10  # then about 2 a second


async def test_a_crashed_encoder_shows_offline_within_seconds(server: LiveServer) -> None:
    """FFmpeg killed mid-stream says nothing: its silence ends the session (MEDIA_SILENCE, 2 s),
    not a frozen picture labelled live for ten."""
    stream = await Person(server).connect("main")
    await stream.receive_until("snapshot")
    encoder = ffmpeg_publisher(f"{server.url}/api/rooms/main/whip", PUBLISHER_KEY, 60)
    try:
        live = await stream.receive(timeout=15)
        assert live["type"] == "video" and live["status"] == "live"
        encoder.kill()  # SIGKILL: no DELETE, no RTCP BYE
        encoder.wait()
        assert await stream.receive(timeout=5) == {"type": "video", "status": "offline"}
        assert video_status(server)["status"] == "offline"
    finally:
        encoder.kill()
        encoder.wait()
        await stream.close()


# A publisher's offer with ICE credentials in every section and no candidate at all: answered,
# and then nothing (the server has nowhere to send a check).
_NO_CANDIDATES = "\n".join(
    line
    for line in OFFER.replace("a=mid:1\n", "a=mid:1\na=ice-ufrag:abcd\na=ice-pwd:abcdefghijklmnopqrstuvwx\n"
                              "a=fingerprint:sha-256 " + ":".join(["00"] * 32) + "\na=setup:actpass\n").splitlines()
    if not line.startswith("a=candidate")
) + "\n"  # fmt: skip
NEVER_CONNECTS = offer(text=_NO_CANDIDATES)


async def test_a_second_publisher_that_never_connects_leaves_the_stream_live(server: LiveServer) -> None:
    """An offer that is answered but never followed by ICE (a misconfigured encoder, a stray
    WHIP client) must not take the room off the air: a publisher takes over at its first keyframe."""
    encoder = ffmpeg_publisher(f"{server.url}/api/rooms/main/whip", PUBLISHER_KEY, 60)
    try:
        await until(lambda: video_status(server)["status"] == "live", timeout=15, what="the encoder live")
        before = video_status(server)
        stray = sdp_post(server, "/api/rooms/main/whip", NEVER_CONNECTS, Authorization=f"Bearer {PUBLISHER_KEY}")
        assert stray.status_code == 201
        assert video_status(server)["status"] == "live" and video_status(server)["stream"] == before["stream"]
        async with httpx.AsyncClient() as client:
            watcher = Watcher(f"{server.url}/api/rooms/main/whep")
            assert await watcher.start(client) == 201
            await until(lambda: watcher.video_frames > 30, timeout=15, what="frames of the first encoder")
            await watcher.stop(client)
        assert video_status(server)["stream"] == before["stream"]
        ended = httpx.delete(f"{server.url}{stray.headers['location']}")
        assert ended.status_code == 200  # the waiting one is a session of its own, and can be ended
        assert video_status(server)["stream"] == before["stream"]
    finally:
        encoder.kill()
        encoder.wait()


async def test_players_that_never_connect_from_one_address_take_only_its_share(
    start_live: Callable[..., LiveServer],
) -> None:
    """70 WHEP offers whose peer never connects used to fill the process's 64 connecting slots,
    and a real viewer got 503: one ordinary address holds at most MAX_CONNECTING_PER_ADDRESS."""
    server = start_live(extra=("--demo",), loopback_venue=False)  # loopback as an ordinary address
    player = offer("recvonly", _NO_CANDIDATES)
    answers = [sdp_post(server, "/api/rooms/main/whep", player) for _ in range(MAX_CONNECTING_PER_ADDRESS)]
    assert [a.status_code for a in answers] == [201] * MAX_CONNECTING_PER_ADDRESS
    refused = sdp_post(server, "/api/rooms/main/whep", player)
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "busy"
    assert "this address" in refused.json()["error"]["message"]
    httpx.delete(f"{server.url}{answers[0].headers['location']}")  # one ends: a slot comes back
    assert sdp_post(server, "/api/rooms/main/whep", player).status_code == 201


def test_ffmpeg_with_its_default_dtls_role_connects_at_once(server: LiveServer) -> None:
    """FFmpeg's WHIP muxer is the DTLS server by default and drops the first ClientHello it gets;
    the server sends it twice (passthrough.repeat_client_hello) rather than wait for OpenSSL's
    first retransmission, 1 s later. FFmpeg times its own handshake phases: the DTLS one took
    1002 ms without the repeat, about 10 ms with it (docs/VIDEO.md)."""
    encoder = ffmpeg_publisher(
        f"{server.url}/api/rooms/main/whip", PUBLISHER_KEY, 3, log_level="verbose", stderr=subprocess.PIPE
    )
    try:
        _, log = encoder.communicate(timeout=20)
    finally:
        encoder.kill()
    phases = next((line for line in log.decode().splitlines() if "elapsed=" in line and ",dtls:" in line), "")
    assert phases, log.decode()[-2000:]
    dtls_ms = float(phases.split(",dtls:")[1].split(",")[0])
    assert dtls_ms < 500, phases


def test_the_demo_clock_shows_the_events_time_not_the_servers() -> None:
    noon_utc = dt.datetime(2023, 9, 19, 12, 0, 5, tzinfo=dt.UTC).timestamp()
    assert clock_text(ZoneInfo("Asia/Shanghai"), noon_utc) == "20:00:05"
    assert clock_text(dt.UTC, noon_utc) == "12:00:05"
