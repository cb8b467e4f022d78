"""HLS packaging: the playlist's rules (RFC 8216), what H.264 tells us without decoding, the
packager cutting real encoded frames (from libx264 and libopus, encoded here in the test) into
segments that decode, and against a real ``live serve``: FFmpeg's WHIP muxer publishes, the
playlist appears, its segments decode, a publisher restart is a discontinuity; ``--demo`` too.
nginx in front is tests/test_hls_nginx.py."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import signal
import time
from collections.abc import Callable, Iterator
from fractions import Fraction

import av
import httpx
import pytest

from live.media import hls as hls_module
from live.media.h264 import parameter_sets, picture_size
from live.media.hls import KEPT, Packager
from live.media.playlist import Segment, render, target_duration, window
from live.media.relay import Relay
from live.web.hls import MAX_HELD, MAX_HELD_PER_ADDRESS, MAX_HELD_PER_ROOM, Holds
from tests.conftest import METRICS_KEY, LiveServer
from tests.livetools import until
from tests.test_media import PUBLISHER_KEY, ffmpeg_publisher

Frame = tuple[bytes, int, bool]  # an access unit, its 90 kHz timestamp, whether it is a keyframe


def h264_frames(
    width: int, height: int, seconds: float, rate: int = 30, gop: int = 30, profile: str = "baseline",
    start: int = 0, keyframes_at: tuple[int, ...] = (),
) -> list[Frame]:  # fmt: skip
    """A clip encoded by libx264 the way publishers do (Annex B, SPS/PPS before each keyframe)."""
    encoder = av.CodecContext.create("libx264", "w")
    assert isinstance(encoder, av.VideoCodecContext)
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = Fraction(1, 90_000)
    encoder.framerate = Fraction(rate, 1)
    encoder.options = {"profile": profile, "preset": "ultrafast", "tune": "zerolatency", "g": str(gop), "bf": "0"}
    frames = []
    for number in range(int(seconds * rate)):
        picture = av.VideoFrame(width, height, "yuv420p")
        picture.pts = number * 90_000 // rate
        picture.time_base = Fraction(1, 90_000)
        if number in keyframes_at:
            picture.pict_type = av.video.frame.PictureType.I
        for packet in encoder.encode(picture):
            frames.append((bytes(packet), (start + int(packet.pts or 0)) % (1 << 32), packet.is_keyframe))
    return frames


def opus_packets(seconds: float, start: int = 0) -> list[tuple[bytes, int]]:
    encoder = av.CodecContext.create("libopus", "w")
    assert isinstance(encoder, av.AudioCodecContext)
    encoder.sample_rate, encoder.layout, encoder.format = 48_000, "stereo", "s16"
    encoder.time_base = Fraction(1, 48_000)
    packets = []
    for number in range(int(seconds * 50)):
        samples = av.AudioFrame(format="s16", layout="stereo", samples=960)
        samples.planes[0].update(bytes(range(256)) * 15)
        samples.sample_rate, samples.pts, samples.time_base = 48_000, number * 960, Fraction(1, 48_000)
        packets += [(bytes(p), (start + int(p.pts or 0)) % (1 << 32)) for p in encoder.encode(samples)]
    return packets


def feed(relay: Relay, video: list[Frame], audio: list[tuple[bytes, int]] | None = None) -> None:
    """Both tracks into the relay in the order their timestamps say (each from its own origin)."""
    events = [((ts - video[0][1]) % (1 << 32) / 90_000, 0, data, ts) for data, ts, _ in video]
    events += [((ts - audio[0][1]) % (1 << 32) / 48_000, 1, data, ts) for data, ts in audio or []]
    for _, kind, data, ts in sorted(events, key=lambda event: event[:2]):
        (relay.on_video if kind == 0 else relay.on_audio)(data, ts)


@pytest.fixture
def packaged() -> Iterator[tuple[Packager, Relay, list[float]]]:
    """A packager following a relay that records when it asked its source for a keyframe."""
    asked: list[float] = []
    relay = Relay("h264", "opus", request_keyframe=lambda: asked.append(time.monotonic()))
    packager = Packager()
    relay.sinks.append(packager)
    packager.follow(relay)
    yield packager, relay, asked
    packager.follow(None)


def decoded(packager: Packager, segment: Segment) -> tuple[list[av.VideoFrame], list[av.AudioFrame]]:
    data = packager.files[segment.init] + packager.files[segment.name]
    with av.open(io.BytesIO(data)) as container:
        video = list(container.decode(video=0))
    with av.open(io.BytesIO(data)) as container:
        audio = list(container.decode(audio=0)) if container.streams.audio else []
    return video, audio


# -- what H.264 says without decoding ------------------------------------------------------------
@pytest.mark.parametrize(("size", "profile"), [((640, 360), "baseline"), ((1280, 720), "high"), ((322, 182), "main")])
def test_the_picture_size_is_read_from_the_sps(size: tuple[int, int], profile: str) -> None:
    keyframe, _, is_key = h264_frames(*size, seconds=0.1, profile=profile)[0]
    sets = parameter_sets(keyframe)
    assert is_key and sets is not None and sets.sps[0] & 0x1F == 7 and sets.pps[0] & 0x1F == 8
    assert picture_size(sets.sps) == size


def test_a_delta_frame_carries_no_parameter_sets() -> None:
    assert parameter_sets(h264_frames(320, 180, seconds=0.2)[1][0]) is None


# -- the playlist --------------------------------------------------------------------------------
def segment(sequence: int, duration: float = 1.0, init: str = "init-a-1.mp4", discontinuity: bool = False,
            discontinuities: int = 0) -> Segment:  # fmt: skip
    return Segment(sequence, f"a-{sequence}.m4s", init, duration, 1_700_000_000 + sequence, discontinuity, discontinuities)


def test_the_target_duration_bounds_every_rounded_duration_and_never_shrinks() -> None:
    assert target_duration([1.0, 1.49]) == 1  # rounded to the nearest second: 1
    assert target_duration([1.0, 1.5]) == 2
    assert target_duration([1.4996]) == 2  # listed as 1.500
    assert target_duration([0.4], previous=3) == 3


def test_the_window_lists_six_segments_and_at_least_three_target_durations() -> None:
    segments = [segment(n) for n in range(20)]
    assert [s.sequence for s in window(segments, 1)] == list(range(14, 20))
    assert len(window(segments, 2)) == 6  # 6 s = 3 x 2 s
    assert len(window(segments, 3)) == 9


def test_the_playlist_marks_discontinuities_and_init_sections() -> None:
    listed = [
        segment(7, init="init-a-1.mp4", discontinuity=True, discontinuities=2),
        segment(8, init="init-a-1.mp4", discontinuities=2),
        segment(9, 1.2, init="init-a-2.mp4", discontinuity=True, discontinuities=3),
    ]
    text = render(listed, 2)
    assert text.startswith("#EXTM3U\n#EXT-X-VERSION:7\n")
    assert "#EXT-X-TARGETDURATION:2\n" in text and "#EXT-X-MEDIA-SEQUENCE:7\n" in text
    assert "#EXT-X-DISCONTINUITY-SEQUENCE:2\n" in text  # the first listed one's discontinuity is counted
    assert text.count("#EXT-X-DISCONTINUITY\n") == 1
    assert text.index('#EXT-X-MAP:URI="init-a-1.mp4"') < text.index("a-7.m4s")
    assert text.index("#EXT-X-DISCONTINUITY\n") < text.index('#EXT-X-MAP:URI="init-a-2.mp4"') < text.index("a-9.m4s")
    assert "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:27.000Z\n#EXTINF:1.000,\na-7.m4s" in text
    assert "#EXTINF:1.200,\na-9.m4s" in text


# -- the packager ----------------------------------------------------------------------------------
def test_segments_of_a_second_start_at_keyframes_and_decode(packaged: tuple[Packager, Relay, list[float]]) -> None:
    packager, relay, asked = packaged
    feed(relay, h264_frames(640, 360, seconds=5.1, start=123_456), opus_packets(5.1, start=4_000_000_000))
    segments = list(packager.segments)
    assert len(segments) == 5 and [s.duration for s in segments] == [1.0] * 5
    assert not asked  # a keyframe every second: nothing to ask for
    for number, item in enumerate(segments):
        assert item.name == f"{packager.run}-{number}.m4s" and not item.discontinuity
        video, audio = decoded(packager, item)
        assert len(video) == 30 and video[0].key_frame and (video[0].width, video[0].height) == (640, 360)
        assert 45 <= len(audio) <= 49 and audio[0].sample_rate == 48_000  # AAC frames of 1,024 samples
    text = packager.playlist()
    assert text is not None and "#EXT-X-TARGETDURATION:1\n" in text and text.count("#EXT-X-PROGRAM-DATE-TIME:") == 5


async def test_a_blocking_reload_waits_for_its_segment_and_gives_up_after_its_timeout(
    packaged: tuple[Packager, Relay, list[float]],
) -> None:
    packager, relay, _ = packaged
    clip = h264_frames(640, 360, seconds=4.1)
    feed(relay, clip[:75])  # two and a half seconds: the segments before the third keyframe
    newest = packager.newest
    assert newest is not None and "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n" in (packager.playlist() or "")
    assert await packager.playlist_with(newest, 5) == packager.playlist()  # there already: at once
    held = asyncio.ensure_future(packager.playlist_with(newest + 1, 30))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not held.done()  # its segment is not made yet
    feed(relay, clip[75:])  # the packager signals each new segment: the waiter wakes
    text = await asyncio.wait_for(held, 5)
    assert text is not None and f"{packager.run}-{newest + 1}.m4s" in text
    assert await packager.playlist_with(newest + 10, 0.05) is None  # never made in time


def test_a_long_gop_asks_for_keyframes_and_a_provoked_keyframe_does_not_cut_short(
    packaged: tuple[Packager, Relay, list[float]],
) -> None:
    packager, relay, asked = packaged
    # Keyframes every 2 s, and one more at 2.3 s (x264 counts its 2 s from there: 4.3 s).
    feed(relay, h264_frames(320, 180, seconds=6.1, gop=60, keyframes_at=(69,)))
    assert asked, "a segment past a second without a keyframe asks for one"
    assert [s.duration for s in packager.segments] == [2.0, 2.3]  # the publisher did not answer
    assert "#EXT-X-TARGETDURATION:2\n" in (packager.playlist() or "")


def test_new_parameter_sets_start_a_new_init_section_after_a_discontinuity(
    packaged: tuple[Packager, Relay, list[float]],
) -> None:
    packager, relay, _ = packaged
    feed(relay, h264_frames(640, 360, seconds=2.0))
    feed(relay, h264_frames(320, 180, seconds=2.6, start=2 * 90_000))  # the encoder changes resolution
    segments = list(packager.segments)
    assert [s.discontinuity for s in segments] == [False, False, True, False]
    assert segments[0].init != segments[2].init and segments[2].discontinuity_sequence == 1
    assert [decoded(packager, s)[0][0].width for s in (segments[1], segments[2])] == [640, 320]
    text = packager.playlist() or ""
    assert text.count("#EXT-X-DISCONTINUITY\n") == 1 and text.count("#EXT-X-MAP:") == 2


def test_a_new_source_continues_the_playlist_after_a_discontinuity_and_names_are_never_reused(
    packaged: tuple[Packager, Relay, list[float]],
) -> None:
    packager, relay, _ = packaged
    feed(relay, h264_frames(320, 180, seconds=2.05), opus_packets(2.2))
    replacement = Relay("h264", "opus")
    replacement.sinks.append(packager)
    feed(replacement, h264_frames(320, 180, seconds=1.05), opus_packets(1.05))  # not followed yet: ignored
    assert len(packager.segments) == 2
    packager.follow(replacement)  # what the media service does when the room's source changes
    assert len(packager.segments) == 3  # the old source's last segment, finished as it was
    feed(replacement, h264_frames(320, 180, seconds=2.05, start=777), opus_packets(2.2, start=99))
    assert [s.sequence for s in packager.segments] == [0, 1, 2, 3, 4]
    assert [s.discontinuity for s in packager.segments] == [False, False, False, True, False]
    names = [s.name for s in packager.segments]
    assert len(set(names)) == 5 and Packager().run != packager.run  # another packager: other names


def test_the_clock_starting_again_is_a_discontinuity_and_old_segments_are_forgotten(
    packaged: tuple[Packager, Relay, list[float]],
) -> None:
    packager, relay, _ = packaged
    for _ in range(3):  # the demo's encoder stops when nobody watches and starts at 0 again
        feed(relay, h264_frames(320, 180, seconds=5.05))
    assert len(packager.segments) == KEPT and packager.segments[-1].discontinuity_sequence == 2
    kept = {s.name for s in packager.segments} | {s.init for s in packager.segments}
    assert set(packager.files) <= kept | {packager.timeline.init_name if packager.timeline else ""}
    assert f"{packager.run}-0.m4s" not in packager.files


def test_a_source_that_returns_after_a_while_does_not_offer_old_segments_as_live(
    packaged: tuple[Packager, Relay, list[float]], monkeypatch: pytest.MonkeyPatch
) -> None:
    packager, relay, _ = packaged
    feed(relay, h264_frames(320, 180, seconds=2.05), opus_packets(2.2))
    assert packager.playlist() is not None
    later = time.time() + hls_module.STALE_AFTER + 3
    monkeypatch.setattr(hls_module.time, "time", lambda: later)
    assert packager.playlist() is None  # until the source's next segment
    feed(relay, h264_frames(320, 180, seconds=1.1, start=3 * 90_000), opus_packets(1.2, start=3 * 48_000))
    assert packager.playlist() is not None


def test_garbage_from_a_publisher_does_not_break_its_relay_and_packaging_starts_again(
    packaged: tuple[Packager, Relay, list[float]],
) -> None:
    packager, relay, _ = packaged
    garbage = b"\x00\x00\x00\x01\x67\xff\xff\xff\xff\x00\x00\x00\x01\x68\x00\x00\x00\x01\x65\x00"
    for n in range(40):
        relay.on_video(garbage, n * 3000)  # must not raise into the receiver that called the relay
    feed(relay, h264_frames(320, 180, seconds=2.05, start=200_000), opus_packets(2.2))
    assert packager.segments and decoded(packager, packager.segments[-1])[0][0].key_frame


def test_a_vp8_stream_is_not_packaged() -> None:
    packager = Packager()
    relay = Relay("vp8", "opus")
    relay.sinks.append(packager)
    packager.follow(relay)
    relay.on_video(b"\x10\x02\x00", 0)
    assert packager.playlist() is None and packager.overview()["video_codec"] == "vp8"


# -- against a real server -----------------------------------------------------------------------
@pytest.fixture
def server(start_live: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch) -> LiveServer:
    monkeypatch.setenv("LIVE_PUBLISHER_KEY_MAIN", PUBLISHER_KEY)
    return start_live()


def playlist_text(server: LiveServer, room: str = "main") -> str | None:
    response = httpx.get(f"{server.url}/api/rooms/{room}/hls/index.m3u8", timeout=10)
    return response.text if response.status_code == 200 else None


def segment_names(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def fetch(server: LiveServer, name: str) -> httpx.Response:
    response = httpx.get(f"{server.url}/api/rooms/main/hls/{name}")
    assert response.status_code == 200, (name, response.text)
    return response


def test_an_offline_room_answers_404_json_and_unknown_files_too(server: LiveServer) -> None:
    offline = httpx.get(f"{server.url}/api/rooms/main/hls/index.m3u8")
    assert offline.status_code == 404 and offline.json()["error"]["code"] == "offline"
    assert offline.headers["cache-control"] == "no-store"
    for path in ("/api/rooms/main/hls/abc-1.m4s", "/api/rooms/main/hls/evil.mp4", "/api/rooms/nowhere/hls/index.m3u8"):
        missing = httpx.get(f"{server.url}{path}")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found", path


async def test_ffmpeg_publishes_and_hls_plays_and_a_restart_is_a_discontinuity(server: LiveServer) -> None:
    url = f"{server.url}/api/rooms/main/whip"
    publisher = ffmpeg_publisher(url, PUBLISHER_KEY, 60, size="640x360", rate=30)
    try:
        await until(lambda: len(segment_names(playlist_text(server) or "")) >= 4, 20, "four segments")
        text = playlist_text(server) or ""
        assert "#EXT-X-PROGRAM-DATE-TIME:" in text and "#EXT-X-TARGETDURATION:1\n" in text
        durations = [float(d) for d in re.findall(r"#EXTINF:([0-9.]+),", text)]
        assert all(0.9 <= d <= 1.1 for d in durations), durations
        init = fetch(server, re.findall(r'#EXT-X-MAP:URI="([^"]+)"', text)[-1])
        assert init.headers["content-type"] == "video/mp4" and "max-age=86400" in init.headers["cache-control"]
        playlist_response = httpx.get(f"{server.url}/api/rooms/main/hls/index.m3u8")
        assert playlist_response.headers["content-type"] == "application/vnd.apple.mpegurl"
        assert "s-maxage=1" in playlist_response.headers["cache-control"]
        for name in segment_names(text)[-3:]:
            data = init.content + fetch(server, name).content
            with av.open(io.BytesIO(data)) as container:
                video = list(container.decode(video=0))
            with av.open(io.BytesIO(data)) as container:
                assert container.streams.audio[0].codec_context.name == "aac"
                audio = list(container.decode(audio=0))
            assert video[0].key_frame and (video[0].width, video[0].height) == (640, 360)
            assert 27 <= len(video) <= 33 and 40 <= len(audio) <= 52  # about a second of both
            assert abs(float(audio[0].time or 0) - float(video[0].time or 0)) < 0.15  # placed by arrival

        publisher.send_signal(signal.SIGINT)  # the venue's encoder restarts
        publisher.wait(timeout=10)
        publisher = ffmpeg_publisher(url, PUBLISHER_KEY, 60, size="640x360", rate=30)
        await until(lambda: "#EXT-X-DISCONTINUITY\n" in (playlist_text(server) or ""), 20, "a discontinuity")
        after = playlist_text(server) or ""
        assert re.search(r"#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=", after)
        numbers = [int(name.split("-")[1].split(".")[0]) for name in segment_names(after)]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # the same playlist, continued
        assert f"#EXT-X-MEDIA-SEQUENCE:{numbers[0]}\n" in after and numbers[-1] >= len(segment_names(text))
        metrics = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {METRICS_KEY}"}).text
        assert re.search(r'live_hls_requests_total\{kind="segment",room="main"\} [3-9]', metrics), metrics
        overview = httpx.get(f"{server.url}/api/rooms/main/video").json()["hls"]
        assert overview["packaging"] is True and overview["audio"] == "aac" and overview["discontinuity_sequence"] >= 1
    finally:
        publisher.kill()
        publisher.wait()


def newest_number(text: str) -> int:
    return int(segment_names(text)[-1].rsplit("-", 1)[1].split(".")[0])


async def test_a_blocking_reload_is_answered_once_its_segment_exists_and_bad_directives_are_400(
    start_live: Callable[..., LiveServer],
) -> None:
    server = start_live(extra=("--demo",))
    url = f"{server.url}/api/rooms/main/hls/index.m3u8"
    text = playlist_text(server) or ""  # wakes the demo
    assert "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n" in text
    async with httpx.AsyncClient(timeout=10) as client:
        newest = newest_number(playlist_text(server) or "")
        held = await client.get(url, params={"_HLS_msn": newest + 1})  # not made yet when asked
        assert held.status_code == 200 and newest_number(held.text) >= newest + 1
        assert held.headers["cache-control"] == "public, max-age=3" and "x-accel-expires" not in held.headers
        ready = await client.get(f"{url}?_HLS_msn={newest}&_HLS_part=0&_HLS_skip=YES")  # no parts, no deltas
        assert ready.status_code == 200 and "#EXT-X-SKIP" not in ready.text and newest_number(ready.text) >= newest
        plain = await client.get(url)
        assert plain.headers["cache-control"] == "public, max-age=0, s-maxage=1"
        far = newest_number(plain.text) + 10
        for query in (f"_HLS_msn={far}", "_HLS_msn=abc", "_HLS_msn=-1", "_HLS_msn=%2B5", "_HLS_msn=1&_hls_msn=2",
                      "_HLS_part=0", "_HLS_msn=1&_HLS_part=x", "_HLS_msn="):  # fmt: skip
            refused = await client.get(f"{url}?{query}")
            assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid", query
            assert refused.headers["cache-control"] == "no-store", query


async def test_a_blocking_reload_held_past_its_limit_is_503(server: LiveServer) -> None:
    # A publisher that ignores keyframe requests and sends one every 12 s: 12 s segments, a target
    # duration of 12, and a hold of 10 s at most (MAX_HOLD): the segment after next is never in time.
    url = f"{server.url}/api/rooms/main/hls/index.m3u8"
    publisher = ffmpeg_publisher(f"{server.url}/api/rooms/main/whip", PUBLISHER_KEY, 60, extra=("-g", "180"))
    try:
        await until(lambda: playlist_text(server) is not None, 40, "the first segment")
        text = playlist_text(server) or ""
        assert "#EXT-X-TARGETDURATION:12\n" in text, text
        async with httpx.AsyncClient(timeout=20) as client:
            late = await client.get(url, params={"_HLS_msn": newest_number(text) + 2})
        assert late.status_code == 503 and late.json()["error"]["code"] == "unavailable", late.text
        assert late.headers["cache-control"] == "no-store" and late.headers["retry-after"] == "1"
    finally:
        publisher.kill()
        publisher.wait()


async def test_blocking_reloads_held_when_the_room_goes_offline_answer_404(server: LiveServer) -> None:
    url = f"{server.url}/api/rooms/main/hls/index.m3u8"
    publisher = ffmpeg_publisher(f"{server.url}/api/rooms/main/whip", PUBLISHER_KEY, 60)
    try:
        await until(lambda: len(segment_names(playlist_text(server) or "")) >= 2, 20, "two segments")
        publisher.send_signal(signal.SIGSTOP)  # the encoder freezes: 2 s later its stream is ended
        # Frames already on their way may finish one more segment, never two.
        wanted = newest_number(playlist_text(server) or "") + 2
        async with httpx.AsyncClient(timeout=10) as client:
            answers = await asyncio.gather(*(client.get(url, params={"_HLS_msn": wanted}) for _ in range(5)))
        assert {(a.status_code, a.json()["error"]["code"]) for a in answers} == {(404, "offline")}
        assert all(a.headers["cache-control"] == "no-store" for a in answers)
    finally:
        publisher.send_signal(signal.SIGCONT)
        publisher.kill()
        publisher.wait()


def test_held_blocking_reloads_are_bounded_per_address_per_room_and_per_process() -> None:
    holds = Holds()
    with contextlib.ExitStack() as stack:
        for _ in range(MAX_HELD_PER_ADDRESS):
            assert holds.refusal("main", "192.0.2.1", 1.0) is None
            stack.enter_context(holds.held("main", "192.0.2.1"))
        refused = holds.refusal("main", "192.0.2.1", 1.0)
        assert refused is not None and refused.status_code == 429 and refused.headers["retry-after"] == "1"
        assert holds.refusal("main", "192.0.2.1", 2.0) is None  # a venue network's address: scaled
        assert holds.refusal("main", "192.0.2.2", 1.0) is None  # another address
        for number in range(MAX_HELD_PER_ROOM - MAX_HELD_PER_ADDRESS):
            stack.enter_context(holds.held("main", f"10.0.{number // 200}.{number % 200}"))
        full = holds.refusal("main", "192.0.2.2", 1.0)
        assert full is not None and full.status_code == 503
        assert holds.refusal("other", "192.0.2.2", 1.0) is None
        for number in range(MAX_HELD - MAX_HELD_PER_ROOM):
            stack.enter_context(holds.held(f"room-{number // 1000}", f"10.1.{number // 200}.{number % 200}"))
        process_full = holds.refusal("other", "192.0.2.2", 1.0)
        assert process_full is not None and process_full.status_code == 503
    assert holds.total == 0 and not holds.rooms and not holds.addresses  # all released


async def test_a_demo_room_is_packaged_once_an_hls_player_asks(start_live: Callable[..., LiveServer]) -> None:
    server = start_live(extra=("--demo",))
    first = playlist_text(server, "industry-chain")  # waits for the first segment of the demo it woke
    assert first is not None and len(segment_names(first)) >= 1
    # A player reloading the playlist keeps the demo encoding.
    await until(lambda: len(segment_names(playlist_text(server, "industry-chain") or "")) >= 3, 10, "3 segments", 0.5)
