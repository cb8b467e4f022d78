"""Prometheus metrics: what an organiser watches to tell whether the service keeps up."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram

CONNECTIONS = Gauge("live_connections", "Open live-stream connections", ["room", "role"])
EVENTS = Counter("live_events_total", "Room events published to this process's connections", ["room"])
DELIVERIES = Counter("live_deliveries_total", "Messages written to client connections")
RESYNCS = Counter("live_resyncs_total", "Clients told to reload or resync", ["reason"])
DROPPED = Counter("live_dropped_clients_total", "Clients dropped because they stopped reading")
COMMANDS = Histogram(
    "live_command_seconds",
    "Time to decide, store and apply a command",
    ["command", "outcome"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
LOOP_LAG = Gauge("live_event_loop_lag_seconds", "How late the event loop ran a 0.5 s timer, last measured")
GC_FROZEN = Gauge("live_gc_frozen_objects", "Objects the garbage collector does not visit (live/gc_policy.py)")
OUTBOX_DEPTH = Gauge("live_outbox_depth_max", "Deepest client outbox, measured when scraped")
HLS_REQUESTS = Counter(
    "live_hls_requests_total", "HLS playlists, init sections and segments this process served", ["room", "kind"]
)
WEBRTC_VIEWERS = Gauge("live_webrtc_viewers", "WebRTC (WHEP) viewers this process serves", ["room"])
HLS_PACKAGING = Gauge("live_hls_packaging", "1 while this process packages the room's HLS, else 0", ["room"])


_command_timers: dict[tuple[str, str], Any] = {}


def command_timer(command: str, outcome: str) -> Any:
    """``COMMANDS`` for one command and outcome. ``labels()`` validates and locks on every call,
    which in a vote storm is paid per vote; the few children there are are kept here."""
    timer = _command_timers.get((command, outcome))
    if timer is None:
        timer = _command_timers[(command, outcome)] = COMMANDS.labels(command=command, outcome=outcome)
    return timer
