"""Offline adapters: enrichment from the address alone, syntax-only verification, MX verification
over any injected resolver (with a cache)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache as default_cache

from ..normalization import InvalidEmailError, validate_and_normalize_email
from ..ports import EmailVerification, MXLookupError, MXResolver

# Consumer mailbox providers: an address there says nothing about the person's company.
FREE_MAIL_DOMAINS = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "yahoo.de",
        "ymail.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "hotmail.de",
        "outlook.com",
        "outlook.de",
        "live.com",
        "live.co.uk",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "web.de",
        "t-online.de",
        "freenet.de",
        "mail.com",
        "mail.ru",
        "yandex.ru",
        "yandex.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "zoho.com",
        "fastmail.com",
        "hey.com",
        "tutanota.com",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "libero.it",
        "virgilio.it",
        "btinternet.com",
        "sky.com",
        "qq.com",
        "163.com",
        "126.com",
        "naver.com",
        "seznam.cz",
        "wp.pl",
        "o2.pl",
    ]
)

# Shared mailboxes rather than a person: fine for some campaigns, a weaker signal for most.
ROLE_LOCAL_PARTS = frozenset(
    [
        "info",
        "contact",
        "hello",
        "hi",
        "sales",
        "support",
        "help",
        "admin",
        "administrator",
        "office",
        "team",
        "marketing",
        "press",
        "media",
        "careers",
        "jobs",
        "hr",
        "billing",
        "accounts",
        "accounting",
        "finance",
        "enquiries",
        "inquiries",
        "service",
        "customerservice",
        "webmaster",
        "postmaster",
        "hostmaster",
        "abuse",
        "noreply",
        "no-reply",
        "donotreply",
        "newsletter",
        "news",
        "security",
        "privacy",
        "legal",
        "compliance",
        "partners",
        "orders",
        "booking",
        "reception",
    ]
)


def _disposable_domains() -> frozenset[str]:
    # A community-maintained list shipped as a package (disposable-email-domains on PyPI).
    from disposable_email_domains import blocklist

    return frozenset(blocklist)


_DISPOSABLE: frozenset[str] | None = None


def is_disposable_domain(domain: str) -> bool:
    global _DISPOSABLE
    if _DISPOSABLE is None:
        _DISPOSABLE = _disposable_domains()
    return domain in _DISPOSABLE


class OfflineEnricher:
    """Facts read from the address itself: company domain, free-mail, role address, disposable."""

    reads = ("normalized_email",)

    def enrich(self, lead: Any) -> dict[str, Any]:
        normalized = lead.normalized_email
        local, _, domain = normalized.rpartition("@")
        free_mail = domain in FREE_MAIL_DOMAINS
        base_local = local.split("+", 1)[0]
        return {
            "company_domain": "" if free_mail else domain,
            "free_mail": free_mail,
            "role_address": base_local in ROLE_LOCAL_PARTS,
            "disposable": is_disposable_domain(domain),
        }


class SyntaxOnlyVerifier:
    """No network: the address parses (email-validator, no DNS). MX is left unchecked."""

    def verify(self, normalized_email: str) -> EmailVerification:
        try:
            validate_and_normalize_email(normalized_email)
        except InvalidEmailError as exc:
            return EmailVerification(syntax_valid=False, has_mx=None, reason=str(exc))
        return EmailVerification(syntax_valid=True, has_mx=None)


class CachedMXResolver:
    """Wraps a resolver; answers are cached per domain (failures are not)."""

    def __init__(self, resolver: MXResolver, *, cache=None, ttl_seconds: int = 24 * 3600) -> None:
        self.resolver = resolver
        self.cache = cache or default_cache
        self.ttl_seconds = ttl_seconds

    def mx_hosts(self, domain: str) -> list[str]:
        key = f"leads:mx:{domain}"
        hit = self.cache.get(key)
        if hit is not None:
            return list(hit)
        hosts = list(self.resolver.mx_hosts(domain))
        self.cache.set(key, hosts, self.ttl_seconds)
        return hosts


class MXEmailVerifier:
    """Syntax, then: does the domain accept mail (has an MX)? Uses any injected resolver."""

    def __init__(self, resolver: MXResolver) -> None:
        self.resolver = resolver
        self.syntax = SyntaxOnlyVerifier()

    def verify(self, normalized_email: str) -> EmailVerification:
        checked = self.syntax.verify(normalized_email)
        if not checked.syntax_valid:
            return checked
        domain = normalized_email.rpartition("@")[2]
        if is_disposable_domain(domain):
            return EmailVerification(syntax_valid=True, has_mx=None, reason="Disposable domain.")
        try:
            hosts = self.resolver.mx_hosts(domain)
        except MXLookupError as exc:
            return EmailVerification(syntax_valid=True, has_mx=None, reason=f"MX look-up failed: {exc}")
        if not hosts:
            return EmailVerification(
                syntax_valid=True, has_mx=False, reason=f"{domain} accepts no mail (no MX)."
            )
        return EmailVerification(syntax_valid=True, has_mx=True)
