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
