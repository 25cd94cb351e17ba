"""Adapter implementations of ``leads.ports`` and the factories choosing the defaults.

``LEADS_MX_LOOKUP=dns`` switches email verification to real MX look-ups (dnspython, cached);
the default is offline (syntax only), so nothing reaches the network unless asked to.
"""

from __future__ import annotations

import os

from ..ports import EmailVerifier, LeadEnricher
from .offline import CachedMXResolver, MXEmailVerifier, OfflineEnricher, SyntaxOnlyVerifier


def default_enricher() -> LeadEnricher:
    return OfflineEnricher()


def default_email_verifier() -> EmailVerifier:
    if os.environ.get("LEADS_MX_LOOKUP", "").lower() == "dns":
        from .dns import DnsPythonMXResolver

        return MXEmailVerifier(CachedMXResolver(DnsPythonMXResolver()))
    return SyntaxOnlyVerifier()
