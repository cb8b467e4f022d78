"""``live check``: every mistake in an event file comes back with where it is."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from live.cli import main
from live.config import ConfigError, parse_event_file, utc_offset_label
from live.settings import resolve

GOOD = """
[event]
slug = "demo"
name = { en = "Demo", zh = "演示" }
venue = { en = "Hall", zh = "大厅" }
timezone = "Asia/Shanghai"
start_date = 2023-09-19
end_date = 2023-09-19

[[rooms]]
slug = "main"
kind = "main"
name = { en = "Main", zh = "主会场" }

[[rooms.sessions]]
title = { en = "Opening", zh = "开幕" }
start = 2023-09-19T09:00:00
end = 2023-09-19T09:30:00
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "event.toml"
    path.write_text(text, "utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_event_file(write(tmp_path, text))
    return [str(problem) for problem in raised.value.problems]


def test_a_good_file_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(write(tmp_path, GOOD))]) == 0
    assert "ok - Demo, 1 rooms, 1 sessions" in capsys.readouterr().out


def test_every_mistake_is_listed_with_its_location(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = (
        GOOD.replace('slug = "main"', 'slug = "Main Hall"')
        .replace('zh = "开幕"', 'zh = ""')
        .replace("end = 2023-09-19T09:30:00", "end = 2023-09-19T08:30:00")
        .replace('kind = "main"', 'kind = "main"\ncolour = "red"')
        .replace('timezone = "Asia/Shanghai"', 'timezone = "Mars/Base"')
    )
    found = problems(tmp_path, broken)
    assert any(p.startswith("event.timezone: unknown timezone 'Mars/Base'") for p in found)
    assert any(p.startswith("rooms[0].slug:") for p in found)
    assert "rooms[0].colour: unknown setting (check its spelling)" in found
    assert any(p.startswith("rooms[0].sessions[0].title.zh:") for p in found)
    assert any(p.startswith("rooms[0].sessions[0].end: end (2023-09-19 08:30) must be after start") for p in found)
    assert main(["check", str(write(tmp_path, broken))]) == 1
    assert "5 problems" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t.replace("[event]", "[event"), "not valid TOML"),
        (lambda t: t.replace('name = { en = "Demo", zh = "演示" }\n', ""), "event.name: required setting is missing"),
        (
            lambda t: t + '\n[[rooms]]\nslug = "main"\nname = { en = "Again", zh = "再" }\n',
            "two rooms share the slug 'main'",
        ),
        (
            lambda t: t.replace("start = 2023-09-19T09", "start = 2023-09-21T09").replace(
                "end = 2023-09-19T09", "end = 2023-09-21T09"
            ),
            "outside the event",
        ),
        (lambda t: t.replace("start = 2023-09-19T09:00:00", "start = 2023-09-19T09:00:00+08:00"), "without an offset"),
    ],
)
def test_specific_mistakes(tmp_path: Path, change, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert any(expected in p for p in problems(tmp_path, change(GOOD)))


def test_a_missing_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        parse_event_file(tmp_path / "absent.toml")


def test_settings_flags_beat_environment_beat_defaults() -> None:
    import argparse

    from live.settings import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    environ = {"LIVE_PORT": "9000", "LIVE_REDIS_URL": "redis://r:6379/0", "LIVE_SECURE_COOKIES": "yes"}
    settings = resolve(parser.parse_args(["--port", "8100"]), environ)
    assert (settings.port, settings.redis, settings.secure_cookies, settings.host) == (
        8100,
        "redis://r:6379/0",
        True,
        "127.0.0.1",
    )
    assert resolve(parser.parse_args([]), {}).redis is None


def test_agenda_times_carry_the_events_offset_at_their_date() -> None:
    assert utc_offset_label(ZoneInfo("Asia/Shanghai"), dt.datetime(2023, 9, 19, 9)) == "UTC+8"
    assert utc_offset_label(ZoneInfo("Asia/Kolkata"), dt.datetime(2023, 9, 19, 9)) == "UTC+5:30"
    assert utc_offset_label(ZoneInfo("Europe/Berlin"), dt.datetime(2023, 7, 1, 9)) == "UTC+2"  # summer time
    assert utc_offset_label(ZoneInfo("Europe/Berlin"), dt.datetime(2023, 12, 1, 9)) == "UTC+1"
    assert utc_offset_label(ZoneInfo("America/St_Johns"), dt.datetime(2023, 12, 1, 9)) == "UTC-3:30"
    assert utc_offset_label(ZoneInfo("UTC"), dt.datetime(2023, 12, 1, 9)) == "UTC"
