"""A camera for glass-to-glass delay: frames stamped with the wall clock at the moment they are
"captured", published by FFmpeg's WHIP muxer like any venue encoder (``media_bench.publisher``).

Python makes the frames, 640x360 at 25 fps in real time: FFmpeg's moving ``testsrc2`` picture
(made once, replayed in a loop) with a strip along the top of 16x16 blocks, black or white, that
spell the time the frame was handed to FFmpeg, in milliseconds since the epoch modulo 2^32.
A page reads it back from the displayed picture (``stamp_reader.js``: a canvas ``drawImage`` of
the video element) and subtracts it from ``Date.now()``: both are this machine's wall clock, so the
difference is the whole path, encoder, server, packaging, player buffer and decoder included.
Blocks survive H.264 at 1 Mbit/s where OCR of drawn digits would not.

Strip layout, one block each: white, black (markers), the 32 bits most significant first, then
4 check bits (the sum of the value's eight nibbles, modulo 16). ``stamp_reader.js`` is the reader.
"""

from __future__ import annotations

import subprocess
import threading
import time

from media_bench import publisher  # beside this script

WIDTH, HEIGHT, RATE = 640, 360, 25
BLOCK = 16
BITS = 32
WHITE, BLACK, NEUTRAL = 235, 16, 128  # limited-range luma, and chroma without colour
LUMA = WIDTH * HEIGHT
RAW_INPUT = ("-f", "rawvideo", "-pix_fmt", "yuv420p", "-video_size", f"{WIDTH}x{HEIGHT}",
             "-framerate", str(RATE), "-i", "pipe:0")  # fmt: skip
LOOP_FRAMES = 2 * RATE  # the background picture: two seconds of testsrc2, replayed


def stamp_bits(value: int) -> list[int]:
    value %= 1 << BITS
    check = sum((value >> shift) & 0xF for shift in range(0, BITS, 4)) % 16
    data = [(value >> (BITS - 1 - i)) & 1 for i in range(BITS)]
    return [1, 0, *data, *[(check >> (3 - i)) & 1 for i in range(4)]]


def read_stamp(bits: list[int]) -> int | None:
    """The inverse of ``stamp_bits`` (the page's reader does the same in JavaScript)."""
    if len(bits) != BITS + 6 or bits[:2] != [1, 0]:
        return None
    value = int("".join(map(str, bits[2 : 2 + BITS])), 2)
    return value if stamp_bits(value)[2 + BITS :] == bits[2 + BITS :] else None


def paint(frame: bytearray, milliseconds: int) -> None:
    """Draw the stamp strip into a yuv420p frame, in place."""
    bits = stamp_bits(milliseconds)
    row = b"".join(bytes([WHITE if bit else BLACK]) * BLOCK for bit in bits)
    for y in range(BLOCK):
        frame[y * WIDTH : y * WIDTH + len(row)] = row
    chroma_width, chroma_row = WIDTH // 2, bytes([NEUTRAL]) * (len(row) // 2)
    for plane in (LUMA, LUMA + LUMA // 4):
        for y in range(BLOCK // 2):
            start = plane + y * chroma_width
            frame[start : start + len(chroma_row)] = chroma_row


def background() -> list[bytes]:
    import imageio_ffmpeg

    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error",
               "-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate={RATE}",
               "-frames:v", str(LOOP_FRAMES), "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"]  # fmt: skip
    raw = subprocess.run(command, capture_output=True, check=True).stdout
    size = LUMA * 3 // 2
    return [raw[i : i + size] for i in range(0, len(raw), size)]


class StampedPublisher:
    """FFmpeg publishing stamped frames to ``whip_url`` until ``stop``."""

    def __init__(self, whip_url: str, seconds: float) -> None:
        self._frames = background()
        self._process = publisher(whip_url, seconds, RAW_INPUT, stdin=subprocess.PIPE)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._feed, daemon=True)
        self._thread.start()

    def _feed(self) -> None:
        pipe = self._process.stdin
        assert pipe is not None
        started = time.monotonic()
        index = 0
        while not self._stopping.is_set():
            wait = started + index / RATE - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            frame = bytearray(self._frames[index % len(self._frames)])
            paint(frame, int(time.time() * 1000))  # the moment of capture
            try:
                pipe.write(frame)
                pipe.flush()
            except (BrokenPipeError, ValueError):
                return
            index += 1

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.terminate()
        self._process.wait(timeout=10)
