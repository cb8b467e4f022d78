"""Room codes in any case: ``/r/Main`` is ``/r/main``.

People type the room code from the screen, and phone keyboards capitalise the first letter. A
request for a room's page or API path whose code matches a room only when case is ignored is
redirected, 308 (method and body kept, so a POSTed command is sent again to the right place), to
the same path with the room's own slug; the query string is kept. Exact codes, unknown codes and
other paths pass through untouched (an unknown room is still the handlers' 404). The live stream
(a WebSocket, which cannot follow a redirect) is opened by pages already on the canonical path.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

ROOM_PATH = re.compile(r"^(/r/|/api/rooms/)([^/]+)(/.*)?$")


class CanonicalRoomPaths:
    def __init__(self, app: ASGIApp, slugs: list[str]) -> None:
        self.app = app
        self.slugs = set(slugs)
        self.by_folded = {slug.casefold(): slug for slug in slugs}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            target = self.canonical(scope["path"])
            if target is not None:
                query = scope.get("query_string", b"").decode("latin-1")
                location = quote(target) + (f"?{query}" if query else "")
                await RedirectResponse(location, status_code=308)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def canonical(self, path: str) -> str | None:
        """The path with the room's own slug, or None when it needs no redirect."""
        found = ROOM_PATH.match(path)
        if found is None or found.group(2) in self.slugs:
            return None
        slug = self.by_folded.get(found.group(2).casefold())
        if slug is None:
            return None
        return f"{found.group(1)}{slug}{found.group(3) or ''}"
