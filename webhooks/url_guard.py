"""SSRF guard for endpoint URLs: checked when an endpoint is saved and again before every delivery
(a name may resolve elsewhere tomorrow), and the delivery connects to the very address checked.

Refused: loopback, private (RFC 1918, ULA), link-local, CGNAT, reserved, multicast and unspecified
addresses, unless ``AICMO_WEBHOOKS_ALLOW_PRIVATE`` is on (tests, a receiver on the same host). Cloud
metadata addresses are refused even then. Every address a name resolves to must pass, so a name
answering with one public and one private address is refused. ``http://`` only when
``AICMO_WEBHOOKS_REQUIRE_HTTPS`` is off (its default follows DEBUG).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from campaigns.errors import DomainError

METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, DigitalOcean, …
        ipaddress.ip_address("169.254.170.2"),  # ECS task metadata
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
MAX_URL_CHARS = 2000


class UnsafeUrlError(DomainError):
    code = "unsafe_url"


@dataclass(frozen=True)
class Target:
    """Where a POST goes: the checked address, and the name for the Host header and TLS."""

    scheme: str
    hostname: str
    port: int
    address: str
    path: str  # path and query

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        return name if self.port == default else f"{name}:{self.port}"


def _address_problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_multicast or ip.is_unspecified:
        return "a multicast or unspecified address"
    if getattr(settings, "AICMO_WEBHOOKS_ALLOW_PRIVATE", False):
        return ""
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved or not ip.is_global:
        return "a reserved or non-public address"
    return ""


def _parts(url: str) -> tuple[str, str, int, str]:
    url = (url or "").strip()
    if not url:
        raise UnsafeUrlError("Give the endpoint's URL.", field="url")
    if len(url) > MAX_URL_CHARS:
        raise UnsafeUrlError(f"The URL is longer than {MAX_URL_CHARS} characters.", field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrlError(f"Not a valid URL: {exc}.", field="url") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeUrlError("The URL must start with https://.", field="url")
    if scheme == "http" and getattr(settings, "AICMO_WEBHOOKS_REQUIRE_HTTPS", True):
        raise UnsafeUrlError("The URL must use https:// (plain http is refused here).", field="url")
    if parts.username or parts.password:
        raise UnsafeUrlError(
            "Credentials in the URL are refused; put a token in the path or query instead.", field="url"
        )
    if not parts.hostname:
        raise UnsafeUrlError("The URL names no host.", field="url")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80), path


def resolve(hostname: str, port: int) -> list[str]:
    """Every address the name resolves to (an IP literal is itself)."""
    try:
        return [str(ipaddress.ip_address(hostname))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrlError(f"The host {hostname!r} does not resolve ({exc}).", field="url") from None
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone
        if address not in seen:
            seen.append(address)
    return seen


def check_url(url: str) -> Target:
    """Refuse (UnsafeUrlError) a URL whose scheme or any resolved address is not allowed; return
    the address to connect to."""
    scheme, hostname, port, path = _parts(url)
    addresses = resolve(hostname, port)
    if not addresses:
        raise UnsafeUrlError(f"The host {hostname!r} resolves to no address.", field="url")
    for address in addresses:
        problem = _address_problem(ipaddress.ip_address(address))
        if problem:
            raise UnsafeUrlError(
                f"The host {hostname!r} resolves to {address}, {problem}: refused (server-side request "
                "forgery guard). Use a public address.",
                field="url",
            )
    return Target(scheme=scheme, hostname=hostname, port=port, address=addresses[0], path=path)
