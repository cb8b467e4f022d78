"""``live serve`` and ``live check``: the two commands an organiser uses."""

from __future__ import annotations

import argparse
import logging
import resource
import sys
from pathlib import Path

from .access import WeakCredential, check_strength, load_or_create_keys, load_or_create_secret
from .config import ConfigError, EventFile, parse_event_file
from .engines.engine import Engine
from .engines.redis import RedisStorage
from .engines.samples import RedisSamples, SampleStore, SqliteSamples
from .engines.sqlite import SqliteStorage
from .engines.storage import Storage
from .hub import Hub
from .media import create_media
from .sampler import AudienceSampler
from .service import Service, initial_states
from .settings import DEFAULT_CONFIG, ServeSettings, add_arguments, resolve

log = logging.getLogger(__name__)

WS_MAX_SIZE = 64 * 1024  # protocol limit; the stream answers frames over 16 KiB with an error


def build_service(settings: ServeSettings, event_file: EventFile) -> Service:
    """The composition root: the storage, the engine over it, the hub, every room's video, the service."""
    storage: Storage
    if settings.redis:
        storage = RedisStorage(settings.redis, event_file.event.slug)
    else:
        storage = SqliteStorage(settings.data_dir / f"{event_file.event.slug}.sqlite3")
    engine = Engine(storage, initial_states(event_file), deadline=settings.command_deadline)
    slugs = [room.slug for room in event_file.rooms]
    if settings.secret:
        check_strength("LIVE_SECRET (--secret)", settings.secret)
    secret = settings.secret or load_or_create_secret(settings.data_dir / "secret")
    keyring = load_or_create_keys(settings.keys_path, slugs).with_tag_secret(secret)
    hub = Hub(engine)
    media = create_media(settings, event_file, hub.publish_status)
    service = Service(settings, event_file, engine, hub, media, keyring, secret)
    samples: SampleStore
    if settings.redis:
        samples = RedisSamples(settings.redis, event_file.event.slug)
    else:
        samples = SqliteSamples(settings.data_dir / f"{event_file.event.slug}-samples.sqlite3")
    service.sampler = AudienceSampler(samples, engine, hub, media, settings.sample_interval, settings.sample_source)
    return service


def serve(settings: ServeSettings) -> int:
    import uvicorn

    from .web.app import create_app
    from .web.connections import ConnectionCounter, guarded_protocols, trusted_proxies

    try:
        event_file = parse_event_file(settings.config)
    except ConfigError as error:
        print(error, file=sys.stderr)
        print(f"\nFix the event file, or run 'live check {settings.config}' for the list.", file=sys.stderr)
        return 2
    try:
        service = build_service(settings, event_file)
    except WeakCredential as weak:
        print(f"live: refusing to start: {weak}", file=sys.stderr)
        return 2
    location = service.engine.storage.location
    engine = f"Redis at {location}" if settings.redis else f"embedded ({location})"
    base = settings.base_url
    print(f"live: {event_file.event.name.en}")
    print(f"  engine: {engine}")
    print(f"  lobby:  {base}/")
    for room in event_file.rooms:
        print(f"  {room.slug:<26} {base}/r/{room.slug}")
    print(f"  admin:  {base}/admin  (keys: {settings.keys_path}, or the LIVE_*_KEY variables)")
    soft, hard = raise_open_file_limit()
    print(f"  open files: up to {soft} (hard limit {hard})")
    sys.stdout.flush()
    http_protocol, ws_protocol = guarded_protocols(
        settings.header_timeout,
        ConnectionCounter(settings.max_connections_per_address, trusted_proxies(settings.forwarded_allow_ips)),
    )
    uvicorn.run(
        create_app(service, freeze_heap=True),  # short collector pauses: live/gc_policy.py
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        ws_ping_interval=settings.ws_ping_interval,
        ws_ping_timeout=settings.ws_ping_timeout,
        ws_max_size=WS_MAX_SIZE,
        http=http_protocol,  # httptools, plus a request-head timeout and a cap per address
        ws=ws_protocol,  # uvicorn's own, plus direct frame writes for the live stream
        ws_per_message_deflate=False,  # about twice the CPU per message for small JSON: see docs/CAPACITY.md
        backlog=4096,  # a keynote's QR code brings thousands of phones within seconds
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,  # the client address limits playback per address
        timeout_graceful_shutdown=5,
        # Longer than a freeze we expect to survive: when a process resumes, uvicorn's keep-alive
        # timer fires before a request that arrived meanwhile is read, and the connection is
        # reset with that request unanswered (tests/test_outcomes.py). Browsers keep idle
        # connections longer than uvicorn's 5 s default anyway (Firefox 115 s, Chrome 300 s).
        timeout_keep_alive=settings.http_keep_alive,
    )
    return 0


def raise_open_file_limit() -> tuple[int, int]:
    """Every connection is a file descriptor, and the common soft limit of 1,024 is a few hundred
    viewers; the hard limit is what the system allows this process. Returns (soft, hard) in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as error:
            log.warning("could not raise the open-file limit from %d to %d: %s", soft, target, error)
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def check(path: Path) -> int:
    try:
        event_file = parse_event_file(path)
    except ConfigError as error:
        count = len(error.problems)
        print(f"{path}: {count} problem{'s' if count != 1 else ''}", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    sessions = sum(len(room.sessions) for room in event_file.rooms)
    print(f"{path}: ok - {event_file.event.name.en}, {len(event_file.rooms)} rooms, {sessions} sessions")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="live", description="Live Q&A, polls, screens and video for conferences")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the service")
    add_arguments(serve_parser)
    check_parser = commands.add_parser("check", help="validate an event file")
    check_parser.add_argument("config", type=Path, nargs="?", default=DEFAULT_CONFIG)
    arguments = parser.parse_args(argv)
    if arguments.command == "check":
        return check(arguments.config)
    settings = resolve(arguments)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return serve(settings)


if __name__ == "__main__":
    raise SystemExit(main())
