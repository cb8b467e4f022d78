"""One client address cannot act as unlimited participants: minting identities, commands per kind
and open live streams are limited per address (live/ratelimit.py), scaled for venue networks;
the address is the proxy's X-Forwarded-For only when the proxy is trusted; and moderators are
told when a question's recent votes come mostly from one address (live/vote_watch.py)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
import websockets

from live.cli import build_service
from live.config import EventFile, parse_event_file
from live.ratelimit import ADDRESS_LIMITS, MAX_STREAMS_PER_ADDRESS, NEW_PARTICIPANT, AddressLimits
from live.service import Service, address_limits
from live.settings import DEFAULT_CONFIG, ServeSettings
from live.vote_watch import MIN_FROM_ONE_ADDRESS, VoteWatch
from live.web import identity
from live.web.app import create_app
from tests.conftest import LOOPBACK_VENUE, MODERATOR_KEY, REPO, LiveServer
from tests.livetools import Person

StartLive = Callable[..., LiveServer]
MINT = ADDRESS_LIMITS[NEW_PARTICIPANT]
TEN_MINUTES_BOUND = 40  # what docs/CONFIGURATION.md promises: votes one address adds to a question


def test_one_ordinary_address_mints_at_most_forty_participants_in_ten_minutes() -> None:
    limits = AddressLimits()
    minted = sum(not limits.allow("198.51.100.7", NEW_PARTICIPANT, step / 10) for step in range(6000))
    assert MINT.burst + 600 * MINT.per_second == TEN_MINUTES_BOUND
    assert TEN_MINUTES_BOUND - 1 <= minted <= TEN_MINUTES_BOUND  # the 40th is due at 600 s exactly
    assert not limits.allow("198.51.100.8", NEW_PARTICIPANT, 600)  # another address is not affected


def test_the_addresses_of_one_ipv6_slash_64_count_as_one() -> None:
    limits = AddressLimits()
    for n in range(int(MINT.burst)):
        assert not limits.allow(f"2001:db8:1:2::{n + 1:x}", NEW_PARTICIPANT, 0)
    assert limits.allow("2001:db8:1:2:ffff::1", NEW_PARTICIPANT, 0)  # the same /64: spent
    assert not limits.allow("2001:db8:1:3::1", NEW_PARTICIPANT, 0)  # the next /64 is someone else
    assert limits.key("::ffff:198.51.100.7") == "198.51.100.7"


async def test_a_cookie_clearing_script_adds_a_bounded_number_of_votes(start_live: StartLive) -> None:
    server = start_live(loopback_venue=False)  # loopback is an ordinary address, as a home or office
    moderator = Person(server)
    moderator.login(MODERATOR_KEY)
    moderator.ok("main", {"type": "set_moderation", "mode": "post"})
    question = moderator.ok("main", {"type": "ask_question", "text": "Stuff me"})["question"]
    started, refusals, accepted = time.monotonic(), [], 0
    for _ in range(150):  # the script: forget the cookie, get a new identity, upvote
        if time.monotonic() - started > 25:
            break
        with httpx.Client(base_url=server.url, timeout=10) as script:
            me = script.get("/api/me")
            if me.status_code != 200:
                refusals.append(me)
            vote = script.post("/api/rooms/main/commands", json={"type": "upvote", "question_id": question["id"]})
            accepted += vote.status_code == 200
            if me.status_code != 200:
                assert vote.status_code == 403 and vote.json()["error"]["code"] == "no_identity"
    elapsed = time.monotonic() - started
    votes = moderator.http.get("/api/rooms/main").json()["live"]["questions"][0]["votes"]
    assert votes == accepted
    assert MINT.burst - 1 <= votes <= MINT.burst + elapsed * MINT.per_second  # the moderator minted one
    assert refusals, "the loop ended before the limit was reached"
    for refused in refusals:
        body = refused.json()["error"]
        assert refused.status_code == 429 and body["code"] == "rate_limited"
        assert body["retry_after"] >= 1 and refused.headers["retry-after"] == str(body["retry_after"])


async def test_commands_of_one_kind_are_limited_per_address(start_live: StartLive) -> None:
    server = start_live(loopback_venue=False)
    moderator = Person(server)
    moderator.login(MODERATOR_KEY)
    moderator.ok("main", {"type": "set_moderation", "mode": "post"})
    questions = [moderator.ok("main", {"type": "ask_question", "text": f"Question {n}"})["question"] for n in range(4)]
    people = [Person(server) for _ in range(int(MINT.burst) - 1)]  # each within its own limits
    replies = [p.command("main", {"type": "upvote", "question_id": q["id"]}) for p in people for q in questions]
    accepted = [reply for reply in replies if reply.status_code == 200]
    refused = [reply.json()["error"] for reply in replies if reply.status_code != 200]
    upvotes = ADDRESS_LIMITS["upvote"]
    assert upvotes.burst <= len(accepted) < upvotes.burst + 10 < len(replies)
    assert {error["code"] for error in refused} == {"rate_limited"}
    assert all(error["retry_after"] >= 1 for error in refused)


async def test_open_streams_are_limited_per_address(start_live: StartLive) -> None:
    server = start_live(loopback_venue=False)
    person = Person(server)
    streams = [await person.connect("main") for _ in range(MAX_STREAMS_PER_ADDRESS)]
    for stream in streams:
        assert (await stream.receive())["type"] == "snapshot"
    one_too_many = await person.connect("main")
    refused = await one_too_many.receive()
    assert refused["code"] == "rate_limited" and refused["retry_after"] >= 1
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await one_too_many.receive()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
    for stream in streams[:5]:
        await stream.close()
    deadline = time.monotonic() + 10  # a closed stream frees its place; the open-rate bucket refills
    while True:
        again = await person.connect("main")
        if (await again.receive())["type"] == "snapshot":
            break
        assert time.monotonic() < deadline, "no stream could be opened after others closed"
        await asyncio.sleep(0.5)
    for stream in [*streams[5:], again]:
        await stream.close()


def test_a_venue_network_is_declared_in_the_event_file(tmp_path: Path) -> None:
    path = tmp_path / "event.toml"
    path.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8") + LOOPBACK_VENUE, encoding="utf-8")
    limits = address_limits(parse_event_file(path))
    assert limits.in_venue_network("127.0.0.1") and limits.in_venue_network("::1")
    assert not limits.in_venue_network("198.51.100.7")
    assert not address_limits(parse_event_file(DEFAULT_CONFIG)).venue_networks  # the shipped file has none
    wrong = {"name": "wifi", "networks": ["10.0.0.0/33"]}
    document = parse_event_file(DEFAULT_CONFIG).model_dump(mode="json")
    with pytest.raises(ValueError, match="not an address or a network"):
        EventFile.model_validate({**document, "venue_networks": [wrong]})


@pytest.fixture
async def venue_service(tmp_path: Path) -> AsyncIterator[Service]:
    path = tmp_path / "event.toml"
    path.write_text(
        DEFAULT_CONFIG.read_text(encoding="utf-8")
        + '\n[[venue_networks]]\nname = "Hall Wi-Fi"\nnetworks = ["203.0.113.0/28"]\nphones = 5000\n',
        encoding="utf-8",
    )
    settings = ServeSettings(data_dir=tmp_path, keys_file=tmp_path / "keys.json")
    service = build_service(settings, parse_event_file(path))
    await service.engine.start()
    yield service
    await service.engine.close()


async def test_five_thousand_phones_join_from_one_venue_address_within_two_minutes(venue_service: Service) -> None:
    from starlette.requests import Request

    site = create_app(venue_service).site
    started = time.monotonic()
    identities = set()
    for port in range(5000):  # each phone's first page: the real minting path, one address
        request = Request({"type": "http", "app": site, "session": {}, "client": ("203.0.113.5", port), "headers": []})
        assert identity.mint_wait(request) == 0, f"phone {port} was refused"
        identities.add(request.session["pid"])
    assert len(identities) == 5000 and time.monotonic() - started < 120
    outsider = [
        identity.mint_wait(
            Request({"type": "http", "app": site, "session": {}, "client": ("198.51.100.7", 1), "headers": []})
        )
        for _ in range(int(MINT.burst) + 1)
    ]
    assert outsider[:-1] == [0] * int(MINT.burst) and outsider[-1] >= 1  # an ordinary address next door


async def test_loopback_declared_a_venue_network_admits_many_participants(start_live: StartLive) -> None:
    server = start_live()  # the tests' configuration: loopback is a venue network
    for _ in range(int(MINT.burst) * 3):
        with httpx.Client(base_url=server.url, timeout=10) as phone:
            assert phone.get("/api/me").status_code == 200


def _exhaust_minting(server: LiveServer, headers: dict[str, str] | None = None) -> None:
    for _ in range(int(MINT.burst) + 1):
        httpx.get(f"{server.url}/api/me", headers=headers)
    assert httpx.get(f"{server.url}/api/me", headers=headers).status_code == 429


async def test_a_forged_forwarded_for_from_an_untrusted_peer_changes_nothing(start_live: StartLive) -> None:
    server = start_live(loopback_venue=False, extra=("--forwarded-allow-ips", "192.0.2.1"))  # not loopback
    _exhaust_minting(server)
    for n in range(5):  # a new address in the header each time: still the peer's
        forged = httpx.get(f"{server.url}/api/me", headers={"X-Forwarded-For": f"198.51.100.{n}"})
        assert forged.status_code == 429


async def test_a_trusted_proxy_gives_the_client_address(start_live: StartLive) -> None:
    server = start_live(loopback_venue=False)  # the default: 127.0.0.1 is the trusted proxy
    _exhaust_minting(server)
    assert httpx.get(f"{server.url}/api/me", headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 200
    # A proxy that appends: the client's own forged part is on the left, the right-most untrusted
    # address is the one the proxy saw connect.
    _exhaust_minting(server, {"X-Forwarded-For": "198.51.100.8"})
    for n in range(5):
        appended = httpx.get(f"{server.url}/api/me", headers={"X-Forwarded-For": f"203.0.113.{n}, 198.51.100.8"})
        assert appended.status_code == 429


def test_the_vote_watch_flags_votes_mostly_from_one_address() -> None:
    watch = VoteWatch()
    alerts = [watch.record("main", "question", "q1", "198.51.100.7", float(n)) for n in range(20)]
    assert alerts[: MIN_FROM_ONE_ADDRESS - 1] == [None] * (MIN_FROM_ONE_ADDRESS - 1)
    last = alerts[-1]
    assert last is not None and (last.from_one_address, last.recent_votes, last.seconds) == (20, 20, 19)
    for n in range(30):  # everyone else's votes: the share of one address falls below half
        watch.record("main", "question", "q1", f"203.0.113.{n}", 20.0 + n / 10)
    assert watch.record("main", "question", "q1", "203.0.113.99", 24.0) is None
    venue = [watch.record("main", "poll", "p1", None, float(n)) for n in range(40)]  # a venue network's
    assert venue == [None] * 40
    late = watch.record("main", "question", "q2", "198.51.100.7", 0.0)
    assert late is None and watch.record("main", "question", "q2", "198.51.100.7", 500.0) is None  # old ones gone


async def test_moderators_hear_when_one_address_stuffs_a_question(start_live: StartLive) -> None:
    server = start_live(loopback_venue=False)
    moderator = Person(server)
    moderator.login(MODERATOR_KEY)
    moderator.ok("main", {"type": "set_moderation", "mode": "post"})
    question = moderator.ok("main", {"type": "ask_question", "text": "Stuff me"})["question"]
    console = await moderator.connect("main", role="moderator")
    await console.receive_until("snapshot")
    viewer = await Person(server).connect("main")
    await viewer.receive_until("snapshot")
    for _ in range(MIN_FROM_ONE_ADDRESS + 2):
        Person(server).ok("main", {"type": "upvote", "question_id": question["id"]})
    deadline = time.monotonic() + 10
    alert: dict[str, object] = {}
    while alert.get("from_one_address") != MIN_FROM_ONE_ADDRESS + 2:
        assert time.monotonic() < deadline, f"no full vote alert; last: {alert}"
        alert = (await console.receive_until("vote_alert"))[-1]
    assert alert["question_id"] == question["id"] and alert["recent_votes"] == MIN_FROM_ONE_ADDRESS + 2
    assert not [m for m in await viewer.quiet(0.5) if m["type"] == "vote_alert"]  # moderators only
    later = await moderator.connect("main", role="moderator")  # a moderator who opens the console now
    assert (await later.receive_until("vote_alert"))[-1] == alert
    for stream in (console, viewer, later):
        await stream.close()


def test_the_shipped_proxy_passes_the_connecting_address_and_only_it_is_trusted() -> None:
    nginx = (REPO / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    forwarded = re.findall(r"proxy_set_header\s+X-Forwarded-For\s+(\S+);", nginx)
    assert forwarded and set(forwarded) == {"$remote_addr"}  # every location: the app's and HLS's
    compose = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    trusted = re.findall(r'LIVE_FORWARDED_ALLOW_IPS:\s*"([^"]*)"', compose)
    proxy_address = re.findall(r"ipv4_address:\s*(\S+)", compose)
    assert trusted == proxy_address and "*" not in trusted[0]
