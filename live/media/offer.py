"""What we accept in an SDP offer, checked before aiortc sees it, and the one change we make.

Checking here gives a publisher or player a clear 400 with a reason instead of an exception deep
in aiortc. The change: we drop the candidates we will not send connectivity checks to, and the
client's own checks then reach us anyway and ICE pairs them as peer-reflexive candidates
(RFC 8445 §7.3.1.3), as it does for FFmpeg, whose offer has none:
- Chromium hides its host addresses behind ``.local`` (mDNS) names, which aiortc tries to resolve
  for about a second each and usually fails to on a server; any other name would be a DNS lookup
  chosen by a stranger;
- an address an anonymous viewer must not aim the server's STUN packets at: loopback, link-local,
  unspecified, multicast or reserved, and private ranges unless the operator allows them (a venue
  LAN); and no more than ``MAX_CANDIDATES`` in all (one offer listing 400 made the server send
  nearly 2,000 packets).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

MAX_OFFER_BYTES = 64 * 1024
MAX_CANDIDATES = 16  # kept per offer: a browser offers a handful (host, srflx per interface)

VIDEO_PREFERENCE = ("h264", "vp8")  # H.264 first: browsers and venue hardware decode it cheaply
AUDIO_PREFERENCE = ("opus",)

_CANDIDATE = re.compile(r"^a=candidate:\S+ \d+ \S+ \d+ (\S+) \d+ ", re.IGNORECASE)
_RTPMAP = re.compile(r"^a=rtpmap:(\d+) ([\w.-]+)/\d+", re.IGNORECASE)
_FMTP = re.compile(r"^a=fmtp:(\d+) (.*)$", re.IGNORECASE)


class OfferRefused(ValueError):
    """The offer cannot be used; the message says why, for the client's developer."""


@dataclass(frozen=True)
class Offer:
    sdp: str
    video_codecs: tuple[str, ...]  # usable codecs offered, ours first: ("h264", "vp8")
    audio_codecs: tuple[str, ...]  # ("opus",) or ()

    @property
    def video_codec(self) -> str | None:
        """What a publisher's session will carry."""
        return self.video_codecs[0] if self.video_codecs else None

    @property
    def audio_codec(self) -> str | None:
        return self.audio_codecs[0] if self.audio_codecs else None


@dataclass
class _Section:
    kind: str
    direction: str = "sendrecv"
    codecs: list[tuple[str, str]] | None = None  # (name, fmtp) in the offer's order


def _sections(sdp: str) -> list[_Section]:
    sections: list[_Section] = []
    fmtp: dict[str, str] = {}
    names: list[tuple[str, str]] = []
    for line in sdp.splitlines():
        if line.startswith("m="):
            if sections:
                sections[-1].codecs = [(name, fmtp.get(pt, "")) for pt, name in names]
            kind = line[2:].split(" ", 1)[0]
            sections.append(_Section(kind))
            fmtp, names = {}, []
        elif sections:
            if line in ("a=sendonly", "a=recvonly", "a=sendrecv", "a=inactive"):
                sections[-1].direction = line[2:]
            elif match := _RTPMAP.match(line):
                names.append((match.group(1), match.group(2).lower()))
            elif match := _FMTP.match(line):
                fmtp[match.group(1)] = match.group(2)
    if sections:
        sections[-1].codecs = [(name, fmtp.get(pt, "")) for pt, name in names]
    return sections


def _usable_h264(fmtp: str) -> bool:
    """Packetization mode 1 (FU-A), which every browser takes, and a baseline profile (42xxxx),
    which is what aiortc negotiates and what has no B-frames to reorder."""
    parameters = dict(item.split("=", 1) for item in fmtp.replace(" ", "").split(";") if "=" in item)
    profile = parameters.get("profile-level-id", "42e01f").lower()
    return parameters.get("packetization-mode") == "1" and profile.startswith("42")


def _usable(section: _Section | None, preference: tuple[str, ...]) -> tuple[str, ...]:
    offered = (section.codecs or []) if section else []
    return tuple(
        wanted
        for wanted in preference
        if any(name == wanted and (name != "h264" or _usable_h264(fmtp)) for name, fmtp in offered)
    )


def _checkable(address: str, allow_private: bool) -> bool:
    """Whether the server may send connectivity checks to a candidate at ``address``."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # an mDNS or other name: not looked up
    if ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return False
    return allow_private or ip.is_global


def _kept_candidates(lines: list[str], allow_private: bool) -> list[str]:
    """The lines, less the candidates we do not check. When any were dropped, so is
    ``a=end-of-candidates``: it would tell ICE that no peer-reflexive candidate can come, and an
    offer left with none would fail at once (aioice) instead of connecting by the client's checks."""
    kept, candidates, dropped = [], 0, False
    for line in lines:
        match = _CANDIDATE.match(line)
        if match is None:
            kept.append(line)
        elif candidates < MAX_CANDIDATES and _checkable(match.group(1), allow_private):
            candidates += 1
            kept.append(line)
        else:
            dropped = True
    return [line for line in kept if line != "a=end-of-candidates"] if dropped else kept


def read_offer(body: bytes, sending: bool, allow_private: bool = False) -> Offer:
    """Check an offer from a publisher (``sending``) or a player, and drop the candidates we do
    not check (see above; ``allow_private``: keep private-range addresses).

    Raises OfferRefused with the reason when it is not an SDP offer we can answer.
    """
    if len(body) > MAX_OFFER_BYTES:
        raise OfferRefused(f"the offer is larger than {MAX_OFFER_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise OfferRefused("the offer is not UTF-8 text") from None
    lines = [line.rstrip("\r") for line in text.split("\n")]
    if not lines or lines[0].strip() != "v=0":
        raise OfferRefused("the body is not an SDP offer (it must start with v=0)")
    if not any(line.startswith("a=fingerprint:") for line in lines):
        raise OfferRefused("the offer has no DTLS fingerprint")
    kept = _kept_candidates([line for line in lines if line], allow_private)
    sdp = "\r\n".join(kept) + "\r\n"
    sections = _sections(sdp)
    media = [s for s in sections if s.kind in ("audio", "video")]
    if not media:
        raise OfferRefused("the offer has no audio or video section")
    for kind in ("audio", "video"):
        if sum(1 for s in media if s.kind == kind) > 1:
            raise OfferRefused(f"the offer has more than one {kind} section: one audio and one video at most")
    usable = ("sendonly", "sendrecv") if sending else ("recvonly", "sendrecv")
    video = next((s for s in media if s.kind == "video" and s.direction in usable), None)
    audio = next((s for s in media if s.kind == "audio" and s.direction in usable), None)
    if video is None and audio is None:
        role = "send" if sending else "receive"
        raise OfferRefused(f"the offer does not {role} audio or video")
    video_codecs = _usable(video, VIDEO_PREFERENCE)
    audio_codecs = _usable(audio, AUDIO_PREFERENCE)
    if video is not None and not video_codecs:
        raise OfferRefused("video must be H.264 constrained baseline (packetization-mode=1) or VP8")
    if audio is not None and not audio_codecs:
        raise OfferRefused("audio must be Opus")
    return Offer(sdp=sdp, video_codecs=video_codecs, audio_codecs=audio_codecs)
