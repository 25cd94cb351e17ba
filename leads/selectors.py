"""Read queries other apps and the API use. Contactability lives here, in one place.

Outreach must call ``contactable_leads`` (set-based, for choosing whom to send to) or
``is_contactable`` (one lead, re-checked under lock just before a send). Both apply the same rules:

1. the lead is in a contactable state and has not been erased;
2. no suppression matches its normalized email or its domain, for its client or globally
   (an erased address is also matched by its SHA-256 digest);
3. when the campaign's LeadPolicy names consent regions and the lead's country is inside them
   (or unknown, if the policy says so), the client holds an active consent or
   legitimate-interest record for the address.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.selectors import Client, effective_policy

from .countries import countries_in_regions
from .models import (
    CONTACTABLE_STATES,
    REJECTION_KINDS,
    ConsentRecord,
    ImportIssueKind,
    Lead,
    LeadImport,
    LeadImportIssue,
    LeadPolicy,
    Suppression,
    SuppressionKind,
)
from .normalization import email_domain, erased_email_digest


def leads_of_campaign(campaign: Campaign) -> QuerySet[Lead]:
    return Lead.objects.filter(campaign=campaign)


def leads_of_address(normalized_email: str, *, client_id: int | None = None) -> QuerySet[Lead]:
    """One address's leads across campaigns (of one client, or all).

    The unique index leads with the campaign, so the campaign ids are spelled out: PostgreSQL then
    probes the index once per campaign instead of scanning every lead.
    """
    campaigns = Campaign.objects.all() if client_id is None else Campaign.objects.filter(client_id=client_id)
    return Lead.objects.filter(
        campaign_id__in=list(campaigns.values_list("pk", flat=True)), normalized_email=normalized_email
    )


def suppressions_visible_to(user) -> QuerySet[Suppression]:
    """The entries a user may read in full: staff every entry, a client user only their client's.

    A global entry (a hard bounce, an erasure) names another client's lead and carries the ESP's
    bounce text, so a client learns of one only as a yes/no: ``is_suppressed`` for an address it
    asks about, ``suppressed_leads`` for its own leads.
    """
    if not user.is_authenticated:
        return Suppression.objects.none()
    if user.is_staff:
        return Suppression.objects.all()
    if user.client_id:
        return Suppression.objects.filter(client_id=user.client_id)
    return Suppression.objects.none()


def suppressions_for_client(client_id: int | None) -> QuerySet[Suppression]:
    """Entries that apply to a client: its own plus the global ones."""
    return Suppression.objects.filter(Q(client__isnull=True) | Q(client_id=client_id))


@dataclass(frozen=True)
class SuppressionSets:
    """The suppression entries that apply to one client, loaded once for a whole import.

    Memory depends on the size of the suppression list, never on the size of the imported file.
    """

    emails: frozenset[str]
    domains: frozenset[str]
    erased_digests: frozenset[str]

    def match(self, normalized_email: str) -> str | None:
        """The kind of entry that suppresses this address, or None."""
        if normalized_email in self.emails:
            return SuppressionKind.EMAIL
        if email_domain(normalized_email) in self.domains:
            return SuppressionKind.DOMAIN
        if self.erased_digests and erased_email_digest(normalized_email) in self.erased_digests:
            return SuppressionKind.ERASED_EMAIL
        return None


def suppression_sets_for_client(client_id: int | None) -> SuppressionSets:
    emails: set[str] = set()
    domains: set[str] = set()
    digests: set[str] = set()
    by_kind = {
        SuppressionKind.EMAIL: emails,
        SuppressionKind.DOMAIN: domains,
        SuppressionKind.ERASED_EMAIL: digests,
    }
    for kind, value in suppressions_for_client(client_id).values_list("kind", "value").iterator():
        by_kind[kind].add(value)
    return SuppressionSets(frozenset(emails), frozenset(domains), frozenset(digests))


def suppressions_of_address(
    queryset: QuerySet[Suppression], *, normalized_email: str
) -> QuerySet[Suppression]:
    """The entries of ``queryset`` that match an address: by itself, its domain or its erasure digest."""
    return queryset.filter(
        Q(kind=SuppressionKind.EMAIL, value=normalized_email)
        | Q(kind=SuppressionKind.DOMAIN, value=email_domain(normalized_email))
        | Q(kind=SuppressionKind.ERASED_EMAIL, value=erased_email_digest(normalized_email))
    )


def matching_suppressions(*, client_id: int | None, normalized_email: str) -> QuerySet[Suppression]:
    return suppressions_of_address(suppressions_for_client(client_id), normalized_email=normalized_email)


def is_suppressed(*, client_id: int | None, normalized_email: str) -> bool:
    return matching_suppressions(client_id=client_id, normalized_email=normalized_email).exists()


def active_consents(*, client_id: int, normalized_email: str, now: dt.datetime | None = None):
    now = now or timezone.now()
    return ConsentRecord.objects.filter(
        client_id=client_id,
        normalized_email=normalized_email,
        withdrawn_at__isnull=True,
        captured_at__lte=now,
    )


def lead_policy_for(campaign_id: int) -> LeadPolicy | None:
    return LeadPolicy.objects.filter(campaign_id=campaign_id).first()


def consent_regions_for(campaign: Campaign | int) -> tuple[str, ...]:
    """The regions whose leads need consent: the campaign's compliance policy (or its client's
    default) is the one place they are kept."""
    if not isinstance(campaign, Campaign):
        campaign = Campaign.objects.select_related("client").get(pk=campaign)
    return tuple(effective_policy(campaign).consent_regions)


def consent_required_for(*, policy: LeadPolicy | None, country: str, regions: tuple[str, ...] = ()) -> bool:
    if not regions:
        return False
    if not country:
        return policy.unknown_country_needs_consent if policy is not None else True
    return country in countries_in_regions(list(regions))


def is_contactable(lead: Lead, *, now: dt.datetime | None = None) -> bool:
    """May outreach contact this lead right now? Re-check it under lock just before sending."""
    return not contactability_blockers(lead, now=now)


def contactability_blockers(lead: Lead, *, now: dt.datetime | None = None) -> list[str]:
    """Why a lead may not be contacted (empty when it may): for the admin and API to show."""
    blockers: list[str] = []
    if lead.erased_at is not None:
        blockers.append("The person's data was erased.")
    if lead.state not in CONTACTABLE_STATES:
        blockers.append(f"The lead is {lead.get_state_display().lower()}.")
    client_id = Campaign.objects.filter(pk=lead.campaign_id).values_list("client_id", flat=True).first()
    if is_suppressed(client_id=client_id, normalized_email=lead.normalized_email):
        blockers.append("The address or its domain is suppressed.")
    policy = lead_policy_for(lead.campaign_id)
    regions = consent_regions_for(lead.campaign_id)
    if consent_required_for(policy=policy, country=lead.country, regions=regions) and not (
        active_consents(client_id=client_id, normalized_email=lead.normalized_email, now=now).exists()
    ):
        blockers.append("The campaign's policy needs consent for this lead's region and none is on record.")
    return blockers


def _suppressions_matching(client) -> tuple[QuerySet[Suppression], QuerySet[Suppression]]:
    """Suppression entries matching the outer lead's address and its domain, global or of
    ``client`` (a client id, or an ``OuterRef`` to the lead's campaign's client)."""
    client_scoped = Q(client__isnull=True) | Q(client_id=client)
    return (
        Suppression.objects.filter(
            client_scoped, kind=SuppressionKind.EMAIL, value=OuterRef("normalized_email")
        ),
        Suppression.objects.filter(
            client_scoped, kind=SuppressionKind.DOMAIN, value=OuterRef("email_domain")
        ),
    )


def contactable_leads(
    queryset: QuerySet[Lead],
    *,
    now: dt.datetime | None = None,
    campaign: Campaign | None = None,
    regions: tuple[str, ...] | None = None,
) -> QuerySet[Lead]:
    """Narrow a lead queryset to those outreach may contact (one SQL query when evaluated).

    Given ``campaign`` (and its consent ``regions``, when the caller has read its policy already),
    the queryset is narrowed to that campaign's leads and nothing is looked up to find out which
    campaigns it spans: the send path calls this once per chunk.

    Erased addresses are matched by digest only in ``is_contactable``: every insertion path checks
    them, and erasure anonymizes the existing leads, so none can be in the table to begin with.
    """
    now = now or timezone.now()
    # A known campaign's client is a constant: no join to the campaign table per lead (the planner,
    # misjudging a freshly imported list as one row, scanned it once per lead).
    client = campaign.client_id if campaign is not None else OuterRef("campaign__client_id")
    email_suppressed, domain_suppressed = _suppressions_matching(client)
    queryset = (
        queryset.filter(state__in=CONTACTABLE_STATES, erased_at__isnull=True, hold_reason="")
        .exclude(Exists(email_suppressed))
        .exclude(Exists(domain_suppressed))
    )
    if campaign is not None:
        queryset = queryset.filter(campaign_id=campaign.pk)
        campaign_regions = {campaign.pk: consent_regions_for(campaign) if regions is None else regions}
    else:
        campaigns = Campaign.objects.filter(pk__in=queryset.values("campaign_id")).select_related("client")
        campaign_regions = {c.pk: consent_regions_for(c) for c in campaigns}
    needing = [campaign_id for campaign_id, needed in campaign_regions.items() if needed]
    if not needing:
        return queryset
    unknown_needs = dict(
        LeadPolicy.objects.filter(campaign_id__in=needing).values_list(
            "campaign_id", "unknown_country_needs_consent"
        )
    )
    needs_consent: Q | None = None
    for campaign_id in needing:
        in_region = Q(country__in=sorted(countries_in_regions(list(campaign_regions[campaign_id]))))
        if unknown_needs.get(campaign_id, True):
            in_region |= Q(country="")
        in_campaign = Q(campaign_id=campaign_id) & in_region
        needs_consent = in_campaign if needs_consent is None else needs_consent | in_campaign
    consented = ConsentRecord.objects.filter(
        client_id=client,
        normalized_email=OuterRef("normalized_email"),
        withdrawn_at__isnull=True,
        captured_at__lte=now,
    )
    return queryset.exclude(needs_consent & ~Exists(consented))


def suppressed_leads(queryset: QuerySet[Lead]) -> QuerySet[Lead]:
    """Leads whose address or domain is suppressed for their client or globally (admin filter)."""
    email_match, domain_match = _suppressions_matching(OuterRef("campaign__client_id"))
    return queryset.filter(Exists(email_match) | Exists(domain_match))


def import_issues(lead_import: LeadImport) -> QuerySet[LeadImportIssue]:
    """Every issue of an import: rejected rows and flagged values, in row order."""
    return lead_import.issues.order_by("row_number", "id")


def import_rejections(lead_import: LeadImport) -> QuerySet[LeadImportIssue]:
    """Why rows were not inserted."""
    return import_issues(lead_import).filter(kind__in=REJECTION_KINDS)


def import_warnings(lead_import: LeadImport) -> QuerySet[LeadImportIssue]:
    """Values of inserted leads that were left empty (country not recognised, too long…)."""
    return import_issues(lead_import).filter(kind=ImportIssueKind.FLAGGED)


def imports_visible_to(user) -> QuerySet[LeadImport]:
    from campaigns.selectors import campaigns_visible_to

    return LeadImport.objects.filter(campaign__in=campaigns_visible_to(user))


def clients_with_address(normalized_email: str) -> QuerySet[Client]:
    return Client.objects.filter(
        pk__in=leads_of_address(normalized_email).values("campaign__client_id")
    ).distinct()
