"""Production MX resolver: dnspython. Never used in tests (they inject a fake resolver)."""

from __future__ import annotations

from ..ports import MXLookupError


class DnsPythonMXResolver:
    def __init__(self, *, lifetime_seconds: float = 3.0) -> None:
        self.lifetime_seconds = lifetime_seconds

    def mx_hosts(self, domain: str) -> list[str]:
        import dns.exception
        import dns.resolver

        try:
            answer = dns.resolver.resolve(domain, "MX", lifetime=self.lifetime_seconds)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except (dns.resolver.NoNameservers, dns.exception.Timeout) as exc:
            raise MXLookupError(str(exc)) from exc
        records = sorted(answer, key=lambda r: r.preference)
        # A "null MX" (RFC 7505: one record, preference 0, host ".") says the domain takes no mail.
        hosts = [str(r.exchange).rstrip(".") for r in records]
        return [h for h in hosts if h]
