"""The websocket's Origin check: a socket is opened only by a page of this site or a trusted origin.

Browsers send cookies with a cross-site websocket handshake and apply no same-origin policy to it, so
any page could otherwise open an agent's inbox socket with their session (cross-site websocket
hijacking). "This site" is the page's own origin: scheme, host and port of the Host the socket was
opened on. channels' AllowedHostsOriginValidator compared host names only, which let in any other port
of the same host (another app on localhost, anything on 127.0.0.1:<port>).

Behind a proxy that changes the Host or the scheme, the public origin is listed in CSRF_TRUSTED_ORIGINS,
as Django's CSRF check already needs it there; its `https://*.example.org` form works here too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]  # scheme, host, port: what makes two origins the same


def parse_origin(value: str) -> Origin | None:
    """An origin such as "https://dash.example.org:8443"; None for anything else ("null", a URL with
    a path or credentials, an unknown scheme)."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:  # a port out of range, a broken IPv6 literal
        return None
    scheme = parts.scheme.lower()
    if (
        scheme not in DEFAULT_PORTS
        or not parts.hostname
        or "@" in parts.netloc
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def _allowed_hosts() -> list[str]:
    # As Django's HttpRequest.get_host(): the page could not have been served from any other Host.
    if settings.DEBUG and not settings.ALLOWED_HOSTS:
        return [".localhost", "127.0.0.1", "[::1]"]
    return list(settings.ALLOWED_HOSTS)


def _is_secure(scope: Mapping[str, Any], headers: Mapping[bytes, bytes]) -> bool:
    # As Django's HttpRequest.is_secure(): a TLS-terminating proxy says so in SECURE_PROXY_SSL_HEADER.
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        name = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin1")
        if name in headers:
            return headers[name].decode("latin1").split(",")[0].strip() == secure_value
    return scope.get("scheme") in ("wss", "https")


def page_origin(scope: Mapping[str, Any]) -> Origin | None:
    """The origin of the page that opens this socket, from its Host; None for a Host we do not serve."""
    headers = dict(scope.get("headers") or [])
    host = headers.get(b"host", b"").decode("latin1")
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, _allowed_hosts()):
        return None
    return parse_origin(f"{'https' if _is_secure(scope, headers) else 'http'}://{host}")


def _trusted(value: str, origin: Origin, patterns: Iterable[str]) -> bool:
    for pattern in patterns:
        if "*" in pattern:  # Django's "https://*.example.org": that domain and its subdomains
            parts = urlsplit(pattern)
            if parts.scheme.lower() == origin[0] and is_same_domain(
                urlsplit(value).netloc.lower(), parts.netloc.lower().lstrip("*")
            ):
                return True
        elif parse_origin(pattern) == origin:
            return True
    return False


def origin_allowed(scope: Mapping[str, Any]) -> bool:
    headers = dict(scope.get("headers") or [])
    value = headers.get(b"origin", b"").decode("latin1").strip()
    origin = parse_origin(value)
    page = page_origin(scope)
    if origin is None or page is None:
        return False
    return origin == page or _trusted(value, origin, settings.CSRF_TRUSTED_ORIGINS)


class SameOriginValidator:
    """ASGI middleware for the websocket route: a handshake from any other origin is refused (daphne
    answers it with HTTP 403) before the session or the consumer is touched."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            headers = dict(scope.get("headers") or [])
            # Said to the operator: behind a proxy, a missing CSRF_TRUSTED_ORIGINS entry looks like this.
            log.warning(
                "websocket refused: origin %r, host %r (not this site nor in CSRF_TRUSTED_ORIGINS)",
                headers.get(b"origin", b"").decode("latin1"),
                headers.get(b"host", b"").decode("latin1"),
            )
            # The scope is a plain dict here; channels' stubs ask for their own TypedDict of it.
            return await WebsocketDenier()(scope, receive, send)  # type: ignore[arg-type]
        return await self.application(scope, receive, send)
