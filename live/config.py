"""The event file: one TOML document that describes the event, its rooms and their agendas.

Organisers edit this file by hand, so every mistake must come back with the place it sits
(``rooms[2].sessions[0].end``) and a sentence a person understands; ``live check`` prints them
all at once instead of stopping at the first.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import itertools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .domain.errors import InvalidInput
from .domain.polls import PollKind, ResultsVisibility, clean_correct, clean_options, clean_series
from .domain.room import ModerationMode

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A name shown to people: every one exists in English and Chinese."""

    en: str = Field(min_length=1, max_length=300)
    zh: str = Field(min_length=1, max_length=300)

    def get(self, language: str) -> str:
        return self.zh if language.startswith("zh") else self.en


class Speaker(Strict):
    name: Text
    affiliation: Text | None = None


class Session(Strict):
    title: Text
    start: dt.datetime
    end: dt.datetime
    speakers: list[Speaker] = Field(default_factory=list)
    # Its replay's address (/r/{room}/replay/{id}); by default its start, e.g. "20231121-0930":
    # set one before the event if start times may still move, so shared links stay valid.
    id: str | None = Field(default=None, pattern=SLUG_PATTERN)

    @property
    def session_id(self) -> str:
        """Stable within its room: explicit, or its start time (sessions of a room never overlap)."""
        return self.id or f"{self.start:%Y%m%d-%H%M}"

    @field_validator("start", "end")
    @classmethod
    def _local_time(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is not None:
            raise ValueError("write a local time without an offset; the event's timezone applies")
        return value

    @field_validator("end")
    @classmethod
    def _ends_after_start(cls, end: dt.datetime, info: ValidationInfo) -> dt.datetime:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError(f"end ({end:%Y-%m-%d %H:%M}) must be after start ({start:%Y-%m-%d %H:%M})")
        return end


class PlannedPoll(Strict):
    """A poll prepared in advance for a planned session: created once as a draft in its room."""

    kind: PollKind
    question: str = Field(min_length=1, max_length=300)
    options: list[str] = Field(default_factory=list, max_length=12)
    correct: list[str] = Field(default_factory=list, max_length=1)
    visibility: ResultsVisibility = ResultsVisibility.LIVE
    series: str = Field(default="", max_length=200)  # a quiz's series (domain/quiz.py)

    @model_validator(mode="after")
    def _valid_for_its_kind(self) -> PlannedPoll:
        try:
            options = clean_options(self.kind, self.options)
            clean_correct(self.kind, options, self.correct)
            clean_series(self.kind, self.series)
        except InvalidInput as error:
            raise ValueError(error.message) from None
        return self


class Room(Strict):
    slug: str = Field(pattern=SLUG_PATTERN)
    kind: Literal["main", "sub"] = "sub"
    name: Text
    topic: Text | None = None
    location: Text | None = None
    moderation: ModerationMode = ModerationMode.PRE
    require_name: bool = False
    screen_language: Literal["zh-CN", "en", "both"] = "both"
    blocked_words: list[str] = Field(default_factory=list, max_length=1000)  # added to the event's list
    sessions: list[Session] = Field(default_factory=list)
    polls: list[PlannedPoll] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _sessions_do_not_overlap(self) -> Room:
        ordered = sorted(self.sessions, key=lambda session: session.start)
        for earlier, later in itertools.pairwise(ordered):
            if later.start < earlier.end:
                raise ValueError(
                    f"sessions '{earlier.title.en}' and '{later.title.en}' overlap "
                    f"({earlier.end:%H:%M} > {later.start:%H:%M})"
                )
        ids = [session.session_id for session in self.sessions]
        repeated = sorted({session_id for session_id in ids if ids.count(session_id) > 1})
        if repeated:
            raise ValueError(f"two sessions share the id {repeated[0]!r}")
        return self

    def session(self, session_id: str) -> Session | None:
        return next((session for session in self.sessions if session.session_id == session_id), None)


class Event(Strict):
    slug: str = Field(pattern=SLUG_PATTERN)
    name: Text
    venue: Text
    city: Text | None = None
    organiser: Text | None = None
    timezone: str = "UTC"
    start_date: dt.date
    end_date: dt.date
    default_language: Literal["zh-CN", "en"] = "zh-CN"
    # Questions containing one of these wait for a moderator, even in post-moderation rooms.
    blocked_words: list[str] = Field(default_factory=list, max_length=5000)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (use an IANA name such as 'Asia/Shanghai')") from None
        return value

    @model_validator(mode="after")
    def _dates_in_order(self) -> Event:
        if self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        return self


class VenueNetwork(Strict):
    """Addresses where many phones share one address (the venue's Wi-Fi behind NAT): each of them
    gets the per-address limits of ``phones`` people joining at once instead of an ordinary
    address's 20. The trade-off (someone on that network can stuff more): docs/CONFIGURATION.md."""

    name: str = Field(min_length=1, max_length=100)
    networks: list[str] = Field(min_length=1, max_length=100)  # CIDRs, e.g. "203.0.113.0/28"
    phones: int = Field(default=5000, ge=20, le=100_000)

    @field_validator("networks")
    @classmethod
    def _cidrs(cls, networks: list[str]) -> list[str]:
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not an address or a network (write e.g. 203.0.113.0/28)") from None
        return networks

    def ip_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(network, strict=False) for network in self.networks]


class EventFile(Strict):
    event: Event
    rooms: list[Room] = Field(min_length=1, max_length=200)
    venue_networks: list[VenueNetwork] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _rooms_are_consistent(self) -> EventFile:
        seen: set[str] = set()
        for room in self.rooms:
            if room.slug in seen:
                raise ValueError(f"two rooms share the slug {room.slug!r}")
            seen.add(room.slug)
        for room in self.rooms:
            for session in room.sessions:
                day = session.start.date()
                if not (self.event.start_date <= day <= self.event.end_date):
                    raise ValueError(
                        f"room {room.slug!r}: session '{session.title.en}' on {day} is outside the event "
                        f"({self.event.start_date} to {self.event.end_date})"
                    )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.event.timezone)

    def room(self, slug: str) -> Room | None:
        return next((room for room in self.rooms if room.slug == slug), None)


@dataclass(frozen=True)
class ConfigProblem:
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ConfigError(Exception):
    """An event file that cannot be used, with every problem found in it."""

    def __init__(self, path: Path, problems: list[ConfigProblem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {problem}" for problem in problems))


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not re.fullmatch(r"[a-z_]+", part):  # pydantic's own markers, e.g. "function-after[...]"
            continue
        else:
            text += f".{part}" if text else part
    return text


def _explain(error: dict) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return "unknown setting (check its spelling)"
    if error["type"] == "missing":
        return "required setting is missing"
    if error["type"] == "string_pattern_mismatch":
        return "use lowercase letters, digits and dashes (at most 40), starting with a letter or digit"
    return message


def parse_event_file(path: Path) -> EventFile:
    """Read and validate an event file, raising ConfigError that lists every problem."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(path, [ConfigProblem("", f"cannot read the file: {error.strerror}")]) from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(path, [ConfigProblem("", "the file is not UTF-8 text")]) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, [ConfigProblem("", f"not valid TOML: {error}")]) from None
    try:
        return EventFile.model_validate(document)
    except ValidationError as error:
        problems = [ConfigProblem(_location(e["loc"]), _explain(dict(e))) for e in error.errors()]
        raise ConfigError(path, problems) from None


def utc_offset_label(zone: ZoneInfo, local: dt.datetime) -> str:
    """ "UTC+8", "UTC-3:30" or "UTC": the zone's offset at a local time of the event, which agenda
    times carry so that a viewer elsewhere knows they are the event's times, not their own."""
    offset = local.replace(tzinfo=zone).utcoffset() or dt.timedelta()
    minutes = int(offset.total_seconds()) // 60
    if not minutes:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'+' if minutes > 0 else '-'}{hours}" + (f":{rest:02d}" if rest else "")


def now_and_next(room: Room, zone: ZoneInfo, at: dt.datetime) -> tuple[Session | None, Session | None]:
    """The session running at ``at`` and the one after it, for the "now / next" lines on pages."""
    local = at.astimezone(zone).replace(tzinfo=None)
    ordered = sorted(room.sessions, key=lambda session: session.start)
    current = next((s for s in ordered if s.start <= local < s.end), None)
    upcoming = next((s for s in ordered if s.start > local), None)
    return current, upcoming
