"""The SSRF guard for outgoing webhooks: an admin-supplied URL must not make our server talk to itself
or to the private network it sits in (a metadata service, a database, an internal admin page).

Refused: a scheme other than http(s), credentials in the URL, and a host that is or resolves to a
loopback, private, link-local, multicast, reserved or unspecified address, unless DEBUG is on or
OUTGOING_WEBHOOK_ALLOW_PRIVATE_URLS says so. It is checked when a subscription is saved (a name that
does not resolve yet is accepted then) and again before every POST, since DNS can change in between.
Left open: a name that resolves to a public address for our check and to a private one a moment later
(DNS rebinding inside one request); a proxy for outgoing traffic closes that gap.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class UnsafeUrl(ValueError):
    """The URL may not be used; the message says why, for the admin."""


def private_urls_allowed() -> bool:
    return bool(settings.DEBUG or settings.OUTGOING_WEBHOOK_ALLOW_PRIVATE_URLS)


def _is_private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return bool(
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def _resolve(host: str, port: int) -> list[str]:
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})
    except (OSError, UnicodeError):
        return []


def check_url(url: str, *, require_resolvable: bool = False) -> str:
    """`url`, cleaned, if an outgoing webhook may be sent there; else UnsafeUrl.

    `require_resolvable`: before a POST the host must resolve (else there is nothing to check).
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeUrl(_("Enter a valid URL.")) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrl(_("Enter an http:// or https:// URL with a host name."))
    if parts.username or parts.password:
        raise UnsafeUrl(_("A webhook URL may not contain a user name or password."))
    if any(ch.isspace() for ch in url):
        raise UnsafeUrl(_("Enter a valid URL."))
    if private_urls_allowed():
        return url
    host = parts.hostname.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        raise UnsafeUrl(_("Webhooks cannot be sent to this server or its private network."))
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    addresses = [str(literal)] if literal is not None else _resolve(host, port)
    if not addresses and require_resolvable:
        raise UnsafeUrl(_("The webhook's host name does not resolve."))
    for address in addresses:
        if _is_private(ipaddress.ip_address(address.split("%")[0])):
            raise UnsafeUrl(_("Webhooks cannot be sent to this server or its private network."))
    return url
