"""The demo's test picture, drawn without numpy or a font library: a room-coloured background,
the room's name, a clock, and a bar that sweeps across once a second (it also shows whether
frames arrive smoothly). Frames are yuv420p planes; every drawing step is a whole-row slice copy,
so a 640x360 frame costs well under a millisecond of Python."""

from __future__ import annotations

import zlib

WIDTH, HEIGHT = 640, 360

# 5x7 glyphs, one string of five 0/1 columns per row.
_GLYPHS = {
    "0": "01110 10001 10011 10101 11001 10001 01110", "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111", "3": "11110 00001 00001 01110 00001 00001 11110",
    "4": "00010 00110 01010 10010 11111 00010 00010", "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110", "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110", "9": "01110 10001 10001 01111 00001 00010 01100",
    "A": "01110 10001 10001 11111 10001 10001 10001", "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110", "D": "11100 10010 10001 10001 10001 10010 11100",
    "E": "11111 10000 10000 11110 10000 10000 11111", "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111", "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110", "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001", "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001", "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110", "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101", "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110", "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110", "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010", "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 01010 00100 00100 00100 00100", "Z": "11111 00001 00010 00100 01000 10000 11111",
    ":": "00000 01100 01100 00000 01100 01100 00000", "-": "00000 00000 00000 11111 00000 00000 00000",
    ".": "00000 00000 00000 00000 00000 01100 01100", "&": "01100 10010 10100 01000 10101 10010 01101",
    " ": "00000 00000 00000 00000 00000 00000 00000",
}  # fmt: skip

Rows = list[list[tuple[int, int]]]  # per text row: the (start, end) spans of lit pixels


def text_spans(text: str, scale: int) -> Rows:
    """Lit spans of ``text`` (upper-cased; unknown characters as spaces) at ``scale`` pixels."""
    glyphs = [_GLYPHS.get(character, _GLYPHS[" "]).split() for character in text.upper()]
    rows: Rows = []
    for row in range(7):
        bits = "0".join(glyph[row] for glyph in glyphs)
        spans, x = [], 0
        for run_bit, run in _runs(bits):
            if run_bit == "1":
                spans.append((x * scale, (x + run) * scale))
            x += run
        rows.extend([spans] * scale)
    return rows


def _runs(bits: str) -> list[tuple[str, int]]:
    runs: list[tuple[str, int]] = []
    for bit in bits:
        if runs and runs[-1][0] == bit:
            runs[-1] = (bit, runs[-1][1] + 1)
        else:
            runs.append((bit, 1))
    return runs


def text_width(text: str, scale: int) -> int:
    return (len(text) * 6 - 1) * scale


class Pattern:
    """Draws frames for one room. The background and title are drawn once; a frame copies them
    and adds the clock and the bar."""

    def __init__(self, title: str) -> None:
        hue = zlib.crc32(title.encode("utf-8"))
        self.u = bytes([64 + hue % 128]) * (WIDTH * HEIGHT // 4)
        self.v = bytes([64 + (hue >> 8) % 128]) * (WIDTH * HEIGHT // 4)
        background = bytearray([70]) * (WIDTH * HEIGHT)
        name = title[:30]
        scale = 4 if text_width(name, 4) <= WIDTH - 40 else 2
        self._draw(background, text_spans(name, scale), (WIDTH - text_width(name, scale)) // 2, 60, 235)
        self.background = bytes(background)
        self._clock_text = ""
        self._clock: Rows = []

    @staticmethod
    def _draw(plane: bytearray, rows: Rows, left: int, top: int, luma: int) -> None:
        for offset, spans in enumerate(rows):
            base = (top + offset) * WIDTH + left
            for start, end in spans:
                plane[base + start : base + end] = bytes([luma]) * (end - start)

    def luma(self, clock: str, phase: float) -> bytes:
        """The Y plane: ``clock`` as text, the bar at ``phase`` (0 to 1) of its sweep."""
        if clock != self._clock_text:
            self._clock_text, self._clock = clock, text_spans(clock, 6)
        plane = bytearray(self.background)
        self._draw(plane, self._clock, (WIDTH - text_width(clock, 6)) // 2, 150, 255)
        bar_width = 24
        left = int(phase * (WIDTH - bar_width))
        bar = bytes([200]) * bar_width
        for row in range(260, 320):
            plane[row * WIDTH + left : row * WIDTH + left + bar_width] = bar
        return bytes(plane)
