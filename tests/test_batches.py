"""Commands decided in one batch (group commit, live/engines/engine.py) through the service, the
one place every transport goes through: each reply says what its own command did."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from live.cli import build_service
from live.config import parse_event_file
from live.domain.roles import Actor, Role
from live.service import Service
from live.settings import DEFAULT_CONFIG, ServeSettings

MODERATOR = Actor("moderator", None, frozenset({(Role.MODERATOR, "*")}))
ANN = Actor("ann", "Ann")


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    settings = ServeSettings(data_dir=tmp_path, keys_file=tmp_path / "keys.json")
    built = build_service(settings, parse_event_file(DEFAULT_CONFIG))
    await built.engine.start()
    yield built
    await built.engine.close()


async def test_each_tap_in_a_batch_is_answered_with_its_own_count(service: Service) -> None:
    await service.run_command("main", MODERATOR, {"type": "set_moderation", "mode": "post"})
    asked = await service.run_command("main", MODERATOR, {"type": "ask_question", "text": "Hydrogen buses?"})
    question_id = asked["question"]["id"]
    taps = [{"type": "upvote", "question_id": question_id, "voted": voted} for voted in (True, False, True)]
    replies = await asyncio.gather(*(service.run_command("main", ANN, tap) for tap in taps))
    assert [(r["votes"], r["voted"]) for r in replies] == [(1, True), (0, False), (1, True)]


async def test_a_vote_batched_with_the_polls_deletion_is_still_answered(service: Service) -> None:
    created = await service.run_command(
        "main", MODERATOR, {"type": "create_poll", "kind": "single_choice", "question": "Which?", "options": ["A", "B"]}
    )
    poll_id = created["poll_id"]
    await service.run_command("main", MODERATOR, {"type": "change_poll", "poll_id": poll_id, "action": "open"})
    vote, deleted = await asyncio.gather(
        service.run_command("main", ANN, {"type": "vote_poll", "poll_id": poll_id, "choices": ["A"]}),
        service.run_command("main", MODERATOR, {"type": "change_poll", "poll_id": poll_id, "action": "delete"}),
    )
    assert vote["offset"] is not None and "tally" not in vote and deleted["offset"] > vote["offset"]
    assert poll_id not in service.engine.state("main").polls
