"""Is a request from one of this site's own pages? Compared on scheme, host and port.

For the live stream a browser always sends ``Origin``; a client that sends none is not a
browser, so it carries no victim's cookie, and is let in. For the login and logout POSTs the
advice of OWASP's CSRF cheat sheet: ``Origin`` if present (``null``, from a sandboxed or
no-referrer page, is refused), else ``Referer``; with neither, the request is let in, because every
current browser sends ``Origin`` on a POST, so only non-browser clients send neither.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

WEB_SCHEME = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def _matches(url: str, connection: HTTPConnection) -> bool:
    """Same scheme (ws is http, wss is https; behind a trusted proxy, its X-Forwarded-Proto) and
    same host and port as the Host header the request came with."""
    parts = urlsplit(url)
    own_scheme = WEB_SCHEME.get(connection.url.scheme)
    host = connection.headers.get("host", "")
    return bool(host) and parts.scheme.lower() == own_scheme and parts.netloc.lower() == host.lower()


def same_origin_stream(connection: HTTPConnection) -> bool:
    origin = connection.headers.get("origin")
    return origin is None or _matches(origin, connection)


def same_origin_post(connection: HTTPConnection) -> bool:
    origin = connection.headers.get("origin")
    if origin is not None:
        return _matches(origin, connection)
    referer = connection.headers.get("referer")
    return referer is None or _matches(referer, connection)
