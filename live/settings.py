"""Every setting of ``live serve`` in one table: its flag, its environment variable, its default.

Flags win over environment variables, which win over defaults. What describes the event itself
(rooms, agendas, moderation defaults) lives in the event file, not here. ``docs/CONFIGURATION.md``
is this table in prose; ``live serve --help`` prints it too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = Path("config/summit-2023.toml")


@dataclass(frozen=True)
class Setting:
    name: str
    flag: str
    env: str
    default: Any
    help: str
    kind: Callable[[str], Any] = str  # a type, or a function that reads the text (local_time)


def local_time(raw: str) -> dt.datetime:
    """An event-local time such as 2023-09-19T10:00 (no offset: the event's timezone applies)."""
    value = dt.datetime.fromisoformat(raw.strip())
    if value.tzinfo is not None:
        raise ValueError("write the event's local time without an offset, e.g. 2023-09-19T10:00")
    return value


local_time.__name__ = "local time"  # argparse names the type in its error: "invalid local time value"


def positive_seconds(raw: str) -> float:
    """A period such as the sampling interval: 0 would run its loop without pause."""
    value = float(raw)
    if not 0 < value < math.inf:
        raise ValueError(f"write a number of seconds above 0, not {raw!r}")
    return value


positive_seconds.__name__ = "seconds"  # "invalid seconds value"

SETTINGS = (
    Setting("config", "--config", "LIVE_CONFIG", DEFAULT_CONFIG, "event file (TOML)", Path),
    Setting("host", "--host", "LIVE_HOST", "127.0.0.1", "address to listen on"),
    Setting("port", "--port", "LIVE_PORT", 8000, "port to listen on", int),
    Setting("redis", "--redis", "LIVE_REDIS_URL", None, "Redis URL; unset runs the embedded engine"),
    Setting("data_dir", "--data-dir", "LIVE_DATA_DIR", Path("data"), "where the embedded engine and keys live", Path),
    Setting("public_url", "--public-url", "LIVE_PUBLIC_URL", None, "URL people reach the service at (QR codes)"),
    Setting("secret", "--secret", "LIVE_SECRET", None, "cookie signing secret; generated in the data dir if unset"),
    Setting("keys_file", "--keys-file", "LIVE_KEYS_FILE", None, "access keys file; default DATA_DIR/keys.json", Path),
    Setting("ws_ping_interval", "--ws-ping-interval", "LIVE_WS_PING_INTERVAL", 20.0, "seconds between pings", float),
    Setting("ws_ping_timeout", "--ws-ping-timeout", "LIVE_WS_PING_TIMEOUT", 20.0, "seconds to answer a ping", float),
    Setting(
        "outbox_limit", "--outbox-limit", "LIVE_OUTBOX_LIMIT", 500, "messages queued per client before resync", int
    ),
    Setting(
        "command_deadline",
        "--command-deadline",
        "LIVE_COMMAND_DEADLINE",
        5.0,
        "seconds a command waits for storage before its client is told the outcome is unknown",
        float,
    ),
    Setting(
        "http_keep_alive",
        "--http-keep-alive",
        "LIVE_HTTP_KEEP_ALIVE",
        75,
        "seconds an idle HTTP connection is kept open",
        int,
    ),
    Setting("secure_cookies", "--secure-cookies", "LIVE_SECURE_COOKIES", False, "send cookies over HTTPS only", bool),
    Setting("log_level", "--log-level", "LIVE_LOG_LEVEL", "info", "debug, info, warning or error"),
    Setting(
        "forwarded_allow_ips",
        "--forwarded-allow-ips",
        "LIVE_FORWARDED_ALLOW_IPS",
        "127.0.0.1",
        "proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For gives the client address",
    ),
    # abuse resistance (docs/CONFIGURATION.md)
    Setting(
        "header_timeout", "--header-timeout", "LIVE_HEADER_TIMEOUT", 10.0, "seconds a request head may take", float
    ),
    Setting(
        "max_connections_per_address",
        "--max-connections-per-address",
        "LIVE_MAX_CONNECTIONS_PER_ADDRESS",
        256,
        "open connections one client address may hold (0: no cap)",
        int,
    ),
    Setting(
        "csp_connect_src",
        "--csp-connect-src",
        "LIVE_CSP_CONNECT_SRC",
        "",
        "other origins the pages may fetch from (other processes' advertise URLs, space-separated)",
    ),
    Setting(
        "sample_interval",
        "--sample-interval",
        "LIVE_SAMPLE_INTERVAL",
        30.0,
        "seconds between two samples of each room's audience, kept for the report",
        positive_seconds,
    ),
    # video (docs/VIDEO.md)
    Setting("demo", "--demo", "LIVE_DEMO", False, "publish a generated test stream into every room", bool),
    Setting(
        "advertise_url", "--advertise-url", "LIVE_ADVERTISE_URL", None, "this process's own URL, for video redirects"
    ),
    Setting(
        "webrtc_seats", "--webrtc-seats", "LIVE_WEBRTC_SEATS", 300, "WebRTC viewers per process; the rest get HLS", int
    ),
    Setting(
        "ice_private_candidates",
        "--ice-private-candidates",
        "LIVE_ICE_PRIVATE_CANDIDATES",
        False,
        "send ICE checks to private-range addresses offered (a venue LAN)",
        bool,
    ),
    # recordings and replays (docs/VIDEO.md)
    Setting(
        "recordings_dir",
        "--recordings-dir",
        "LIVE_RECORDINGS_DIR",
        None,
        "where rooms' video is recorded; default DATA_DIR/recordings",
        Path,
    ),
    Setting(
        "recordings_max_mb",
        "--recordings-max-mb",
        "LIVE_RECORDINGS_MAX_MB",
        0.0,
        "megabytes of recordings at most, all rooms together (0: until the disk is full)",
        float,
    ),
    Setting(
        "recordings_keep_days",
        "--recordings-keep-days",
        "LIVE_RECORDINGS_KEEP_DAYS",
        0.0,
        "days a recording is kept (0: for ever)",
        float,
    ),
    # rehearsals (live/clock.py)
    Setting(
        "agenda_now",
        "--agenda-now",
        "LIVE_AGENDA_NOW",
        None,
        "pretend the agenda reads this local time of the event at start, e.g. 2023-09-19T10:00 (rehearsals)",
        local_time,
    ),
)


@dataclass(frozen=True)
class ServeSettings:
    config: Path = DEFAULT_CONFIG
    host: str = "127.0.0.1"
    port: int = 8000
    redis: str | None = None
    data_dir: Path = Path("data")
    public_url: str | None = None
    secret: str | None = None
    keys_file: Path | None = None
    ws_ping_interval: float = 20.0
    ws_ping_timeout: float = 20.0
    outbox_limit: int = 500
    command_deadline: float = 5.0
    http_keep_alive: int = 75
    secure_cookies: bool = False
    log_level: str = "info"
    forwarded_allow_ips: str = "127.0.0.1"
    header_timeout: float = 10.0
    max_connections_per_address: int = 256
    csp_connect_src: str = ""
    sample_interval: float = 30.0
    demo: bool = False
    advertise_url: str | None = None
    webrtc_seats: int = 300
    ice_private_candidates: bool = False
    recordings_dir: Path | None = None
    recordings_max_mb: float = 0.0
    recordings_keep_days: float = 0.0
    agenda_now: dt.datetime | None = None

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    @property
    def own_url(self) -> str:
        """Where other processes send this process's video viewers (unlike public_url, which may
        be a load balancer in front of all of them)."""
        if self.advertise_url:
            return self.advertise_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    @property
    def sample_source(self) -> str:
        """Which process counted an audience sample (live/sampler.py), stable across restarts:
        its advertised URL; on Redis without one, this host's name and port, since ``own_url``
        would be http://127.0.0.1:PORT on every host and two processes on one Redis would write
        one series, each overwriting the other's counts (a recreated container gets a new host
        name, hence a new series: docker-compose sets --advertise-url). The embedded engine has
        one process: ``own_url``, as it always was."""
        if self.advertise_url:
            return self.advertise_url.rstrip("/")
        if not self.redis:
            return self.own_url
        return f"{socket.gethostname()}:{self.port}"

    @property
    def keys_path(self) -> Path:
        return self.keys_file or self.data_dir / "keys.json"

    @property
    def recordings_path(self) -> Path:
        return self.recordings_dir or self.data_dir / "recordings"


def _convert(setting: Setting, raw: str) -> Any:
    if setting.kind is bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    return setting.kind(raw)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for setting in SETTINGS:
        if setting.kind is bool:
            parser.add_argument(setting.flag, action="store_true", default=None, help=f"{setting.help} [{setting.env}]")
        else:
            parser.add_argument(
                setting.flag,
                type=setting.kind,
                default=None,
                help=f"{setting.help} [{setting.env}, default {setting.default}]",
            )


def resolve(arguments: argparse.Namespace, environ: dict[str, str] | None = None) -> ServeSettings:
    environ = dict(os.environ) if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        given = getattr(arguments, setting.name, None)
        if given is not None:
            values[setting.name] = given
        elif environ.get(setting.env):
            values[setting.name] = _convert(setting, environ[setting.env])
        else:
            values[setting.name] = setting.default
    known = {f.name for f in fields(ServeSettings)}
    return ServeSettings(**{k: v for k, v in values.items() if k in known})
