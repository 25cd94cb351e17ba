"""Protocols for what lives outside the machine or may be swapped: enrichment, MX look-ups,
email verification and lead sources. ``leads/adapters/`` holds the implementations; the offline
ones are the defaults, so everything runs with no network and no keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Protocol, runtime_checkable


class MXLookupError(Exception):
    """The look-up could not be answered (timeout, server failure): try again later, do not cache."""


@runtime_checkable
class MXResolver(Protocol):
    def mx_hosts(self, domain: str) -> list[str]:
        """Mail exchangers of an ASCII domain, best first; [] when it has none (NXDOMAIN, no MX)."""


@dataclass(frozen=True)
class EmailVerification:
    syntax_valid: bool
    has_mx: bool | None  # None: not checked (offline) or the look-up failed
    reason: str = ""

    @property
    def is_valid(self) -> bool:
        return self.syntax_valid and self.has_mx is not False

    def as_dict(self) -> dict[str, Any]:
        # Shallow (the fields are scalars): dataclasses.asdict deep-copies, which enrichment paid
        # once per lead.
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "is_valid": self.is_valid}


@runtime_checkable
class EmailVerifier(Protocol):
    def verify(self, normalized_email: str) -> EmailVerification: ...


@runtime_checkable
class LeadEnricher(Protocol):
    """Facts about a lead from outside its own row.

    An enricher may also declare ``reads``: the tuple of Lead field names ``enrich`` looks at.
    Enrichment then loads only those (and what scoring needs) for its batch of leads; without the
    attribute every field is loaded, so an enricher that reads, say, ``linkedin_url`` works either way.
    """

    def enrich(self, lead: Any) -> dict[str, Any]:
        """Facts to merge into ``Lead.enrichment`` (reads the lead's fields; never writes)."""


@runtime_checkable
class LeadSourceAdapter(Protocol):
    """A third-party finder (Apollo and the like). ``fetch`` yields dicts keyed by lead field
    (email, first_name, last_name, title, company, company_size, industry, country, timezone,
    linkedin_url); they go through the same importer as a CSV row."""

    name: str

    def fetch(self, *, query: Mapping[str, Any], limit: int) -> Iterable[Mapping[str, Any]]: ...
