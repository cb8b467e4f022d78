"""What every page shares: the icon a browser tab and a home-screen bookmark show."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from .conftest import LiveServer


def test_every_page_names_its_icon_and_the_default_path_leads_there(serve_live: Callable[..., LiveServer]) -> None:
    server = serve_live()
    for path in ("/", "/r/main", "/r/main/moderate", "/login"):  # (a screen or console redirects to /login)
        page = httpx.get(server.url + path, follow_redirects=True).text
        assert '<link rel="icon" href="/static/favicon.svg"' in page, path
    icon = httpx.get(server.url + "/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg")


def test_a_room_code_in_another_case_leads_to_the_room(serve_live: Callable[..., LiveServer]) -> None:
    """Phone keyboards capitalise: /r/Main is the main room's page, by a permanent redirect that
    keeps the method (308), the rest of the path and the query; the API likewise."""
    server = serve_live()
    for typed, canonical in (
        ("/r/Main", "/r/main"),
        ("/r/MAIN/screen?every=5", "/r/main/screen?every=5"),
        ("/r/Industry-Chain/moderate", "/r/industry-chain/moderate"),
        ("/api/rooms/Main", "/api/rooms/main"),
        ("/api/rooms/Main/commands", "/api/rooms/main/commands"),
    ):
        response = httpx.get(server.url + typed)
        assert response.status_code == 308, typed
        assert response.headers["location"] == canonical, typed
    assert httpx.get(server.url + "/r/Main", follow_redirects=True).status_code == 200
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/r/main").status_code == 200  # an identity for the command below
        sent = client.post("/api/rooms/Main/commands", json={"type": "upvote", "question_id": "none"},
                           follow_redirects=True)  # fmt: skip
        assert sent.status_code == 404 and sent.json()["error"]["code"] == "not_found"  # the room's answer: no question
    assert httpx.get(server.url + "/r/main").status_code == 200  # the code as it is: no redirect
    assert httpx.get(server.url + "/r/nowhere").status_code == 404  # no room in any case
    assert httpx.get(server.url + "/api/rooms/Nowhere").status_code == 404
