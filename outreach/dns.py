"""The one DNS resolver outreach asks (DKIM key look-ups, sender readiness checks).

``AICMO_DNS_NAMESERVERS`` (``host:port,…``; ``[v6]:port`` for IPv6, the port defaults to 53) points
every look-up at those servers instead of the system's: tests serve their records from a loopback
DNS server, and an operator can pin a validating resolver. Empty: the system's configuration
(/etc/resolv.conf).
"""

from __future__ import annotations

import dns.nameserver
import dns.resolver
from django.conf import settings

__all__ = ["configured_nameservers", "dkim_txt", "resolver", "txt_records"]

DEFAULT_LIFETIME_SECONDS = 5.0


def configured_nameservers(value: str | None = None) -> list[tuple[str, int]]:
    """``"127.0.0.1:5353, [::1]:53, 10.0.0.2"`` → ``[("127.0.0.1", 5353), ("::1", 53), ("10.0.0.2", 53)]``."""
    raw = getattr(settings, "AICMO_DNS_NAMESERVERS", "") if value is None else value
    servers = []
    for item in (part.strip() for part in (raw or "").split(",")):
        if not item:
            continue
        if item.startswith("["):  # [v6]:port
            host, _, rest = item[1:].partition("]")
            port = rest.removeprefix(":") or "53"
        elif item.count(":") == 1:
            host, port = item.split(":")
        else:  # a bare IPv4 or IPv6 address
            host, port = item, "53"
        servers.append((host, int(port)))
    return servers


def resolver(*, lifetime: float = DEFAULT_LIFETIME_SECONDS) -> dns.resolver.Resolver:
    """A fresh resolver: the configured nameservers, else the system's. Fresh per call, so a
    changed setting (a test's loopback server) applies at once and threads share no state."""
    servers = configured_nameservers()
    if servers:
        made = dns.resolver.Resolver(configure=False)
        made.nameservers = [dns.nameserver.Do53Nameserver(host, port) for host, port in servers]
    else:
        made = dns.resolver.Resolver()
    made.lifetime = lifetime
    made.timeout = min(made.timeout, lifetime)
    return made


def txt_records(name: str, *, lifetime: float = DEFAULT_LIFETIME_SECONDS) -> list[bytes]:
    """Every TXT record of ``name``, each one's strings joined (RFC 7208 §3.3); none when the name
    or the record does not exist. A server failure or time-out raises ``dns.exception.DNSException``."""
    try:
        answer = resolver(lifetime=lifetime).resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    return [b"".join(record.strings) for record in answer]


def dkim_txt(name: bytes, timeout: float = DEFAULT_LIFETIME_SECONDS) -> bytes | None:
    """dkimpy's ``dnsfunc``: the first TXT record of a ``<selector>._domainkey.<domain>.`` name,
    looked up through ``resolver()`` (dkimpy's own look-up asks the system's resolver only)."""
    try:
        records = txt_records(name.decode("ascii"), lifetime=timeout)
    except UnicodeDecodeError:
        return None
    return records[0] if records else None
