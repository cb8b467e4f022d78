"""Security headers on every HTTP response.

The Content-Security-Policy allows only this site's own script and style files: no inline script
or style attribute (the pages keep their data in ``<script type="application/json">`` blocks,
which are not run, and set styles from their scripts, which CSP allows). ``frame-ancestors 'none'``
and ``X-Frame-Options: DENY``: nothing embeds these pages (the venue screens are full-screen
browsers, not iframes), and a logged-in console in someone else's frame is a clickjacking target.
HSTS is sent only with ``--secure-cookies``, which says the site is served over HTTPS.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(connect_origins: tuple[str, ...] = ()) -> str:
    """``connect_origins``: other processes' advertise URLs, which WHEP may redirect a player to."""
    connect = " ".join(("'self'", *connect_origins))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"media-src 'self' blob:; connect-src {connect}; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


HSTS = "max-age=31536000; includeSubDomains"


def security_headers(secure: bool, connect_origins: tuple[str, ...] = ()) -> dict[str, str]:
    headers = {
        "content-security-policy": content_security_policy(connect_origins),
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "strict-origin-when-cross-origin",
    }
    if secure:
        headers["strict-transport-security"] = HSTS
    return headers


class SecurityHeaders:
    """ASGI middleware: adds the headers to each response that does not set them itself."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self._headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self._headers.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
