"""What HLS packaging needs to know of an H.264 access unit, read without decoding it: its NAL
units, its parameter sets (SPS and PPS, which become the init section's ``avcC``), and the
picture size its SPS declares (the init section's width and height)."""

from __future__ import annotations

from dataclasses import dataclass

SPS, PPS = 7, 8


def nal_units(access_unit: bytes) -> list[bytes]:
    """The NAL units of an Annex B access unit, without their start codes."""
    units = []
    position = access_unit.find(b"\x00\x00\x01")
    while position != -1:
        start = position + 3
        following = access_unit.find(b"\x00\x00\x01", start)
        end = len(access_unit) if following == -1 else following
        unit = access_unit[start:end]
        if following != -1:
            unit = unit.rstrip(b"\x00")  # the next start code's leading zero (four-byte form)
        if unit:
            units.append(unit)
        position = following
    return units


@dataclass(frozen=True)
class ParameterSets:
    sps: bytes
    pps: bytes

    def annex_b(self) -> bytes:
        """The stream's extradata in the form FFmpeg's MP4 muxer turns into an ``avcC`` box."""
        return b"\x00\x00\x00\x01" + self.sps + b"\x00\x00\x00\x01" + self.pps

    def size(self) -> tuple[int, int]:
        return picture_size(self.sps)


def parameter_sets(access_unit: bytes) -> ParameterSets | None:
    """The SPS and PPS an access unit carries (encoders repeat them before each keyframe)."""
    sps = pps = None
    for unit in nal_units(access_unit):
        kind = unit[0] & 0x1F
        if kind == SPS and sps is None:
            sps = unit
        elif kind == PPS and pps is None:
            pps = unit
    return ParameterSets(sps, pps) if sps and pps else None


class _Bits:
    """An exp-Golomb reader over a NAL unit's payload, emulation prevention bytes removed."""

    def __init__(self, payload: bytes) -> None:
        self.data = payload.replace(b"\x00\x00\x03", b"\x00\x00")
        self.position = 0

    def bit(self) -> int:
        byte = self.data[self.position >> 3] if self.position >> 3 < len(self.data) else 0
        self.position += 1
        return (byte >> (7 - ((self.position - 1) & 7))) & 1

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            value = (value << 1) | self.bit()
        return value

    def unsigned(self) -> int:
        zeros = 0
        while self.bit() == 0 and zeros < 32:
            zeros += 1
        return (1 << zeros) - 1 + self.bits(zeros)

    def signed(self) -> int:
        value = self.unsigned()
        return (value + 1) // 2 if value & 1 else -(value // 2)


HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


def picture_size(sps: bytes) -> tuple[int, int]:
    """Width and height in pixels, after cropping (ITU-T H.264 section 7.3.2.1.1)."""
    bits = _Bits(sps[1:])
    profile = bits.bits(8)
    bits.bits(16)  # constraint flags, level
    bits.unsigned()  # seq_parameter_set_id
    chroma_format = 1
    if profile in HIGH_PROFILES:
        chroma_format = bits.unsigned()
        if chroma_format == 3:
            bits.bit()  # separate_colour_plane_flag
        bits.unsigned()  # bit_depth_luma
        bits.unsigned()  # bit_depth_chroma
        bits.bit()  # qpprime_y_zero_transform_bypass_flag
        if bits.bit():  # seq_scaling_matrix_present_flag
            for index in range(8 if chroma_format != 3 else 12):
                if bits.bit():
                    _skip_scaling_list(bits, 16 if index < 6 else 64)
    bits.unsigned()  # log2_max_frame_num_minus4
    order_type = bits.unsigned()
    if order_type == 0:
        bits.unsigned()
    elif order_type == 1:
        bits.bit()
        bits.signed()
        bits.signed()
        for _ in range(bits.unsigned()):
            bits.signed()
    bits.unsigned()  # max_num_ref_frames
    bits.bit()  # gaps_in_frame_num_value_allowed_flag
    width_in_macroblocks = bits.unsigned() + 1
    height_in_map_units = bits.unsigned() + 1
    frame_mbs_only = bits.bit()
    if not frame_mbs_only:
        bits.bit()  # mb_adaptive_frame_field_flag
    bits.bit()  # direct_8x8_inference_flag
    width = width_in_macroblocks * 16
    height = height_in_map_units * 16 * (2 - frame_mbs_only)
    if bits.bit():  # frame_cropping_flag
        crop_x = 2 if chroma_format in (1, 2) else 1
        crop_y = (2 if chroma_format == 1 else 1) * (2 - frame_mbs_only)
        left, right, top, bottom = (bits.unsigned() for _ in range(4))
        width -= (left + right) * crop_x
        height -= (top + bottom) * crop_y
    return width, height


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = following = 8
    for _ in range(size):
        if following:
            following = (last + bits.signed() + 256) % 256
        last = following or last
