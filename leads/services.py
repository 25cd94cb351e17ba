"""The code that writes this app's tables (besides the bulk importer). One audited action each."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import can_proceed

from campaigns.actors import acting_user
from campaigns.bulk import bulk_update_rows, insert_history_rows, update_returning_pks
from campaigns.errors import DomainError, TransitionNotAllowedError
from campaigns.events import actor_name, emit_event, lead_data
from campaigns.fsm import source_states
from campaigns.models import Campaign, Client
from campaigns.permissions import require_action
from campaigns.services.audit import record_audit_event
from campaigns.services.policy import set_compliance_policy

from . import erasure
from .countries import REGION_COUNTRIES, countries_in_regions
from .lock_objects import lead_for_update
from .models import (
    ConsentRecord,
    LawfulBasis,
    Lead,
    LeadImportIssue,
    LeadPolicy,
    LeadState,
    Suppression,
    SuppressionKind,
    SuppressionReason,
)
from .normalization import (
    InvalidEmailError,
    erased_email_digest,
    normalize_domain,
    normalize_email,
    validate_and_normalize_email,
)
from .ports import EmailVerifier, LeadEnricher
from .scoring import LeadFacts, next_action_at_for, score_lead
from .selectors import lead_policy_for, leads_of_address

logger = logging.getLogger(__name__)

# --- lead lifecycle -------------------------------------------------------------------------------

LEAD_TRANSITIONS = (
    "mark_enriched",
    "mark_contacted",
    "mark_replied",
    "qualify",
    "win",
    "lose",
    "unsubscribe",
    "bounce",
    "forbid_contact",
)


# Lead steps announced to webhook endpoints (campaigns.event_types).
LEAD_EVENTS = {"qualify": "lead.qualified", "win": "lead.won", "unsubscribe": "lead.unsubscribed"}


def transition_lead(
    *, lead: Lead | int, transition: str, actor=None, rationale: str = "", event_data: dict | None = None
) -> Lead:
    """Move a lead along its lifecycle (locked, audited). Illegal steps raise TransitionNotAllowedError.
    ``event_data`` adds to the step's outbound event (a won deal's value)."""
    if transition not in LEAD_TRANSITIONS:
        raise DomainError(
            f"Unknown lead transition {transition!r}; known: {', '.join(LEAD_TRANSITIONS)}.",
            field="transition",
        )
    lead_id = lead.pk if isinstance(lead, Lead) else lead
    with transaction.atomic():
        locked = lead_for_update(lead_id)
        method = getattr(locked, transition)
        if not can_proceed(method):
            raise TransitionNotAllowedError(
                f"A {locked.get_state_display().lower()} lead cannot {transition.replace('_', ' ')}.",
                state=locked.state,
            )
        before = locked.state
        method()
        locked.state_reason = (rationale or "")[:500]
        locked.updated_at = timezone.now()
        locked.save()
        record_audit_event(
            verb=f"lead.{transition}",
            actor=actor,
            campaign=locked.campaign,
            target=locked,
            rationale=rationale,
            metadata={"from": before, "to": locked.state},
        )
        if transition in LEAD_EVENTS:
            emit_event(
                LEAD_EVENTS[transition],
                client=locked.campaign.client_id,
                campaign=locked.campaign,
                data={
                    "lead": lead_data(locked),
                    "actor": actor_name(actor),
                    "from_state": before,
                    "rationale": rationale,
                    **(event_data or {}),
                },
            )
    return locked


# --- suppression ----------------------------------------------------------------------------------

# What an email suppression does to the address's existing leads.
EXIT_FOR_REASON = {
    SuppressionReason.UNSUBSCRIBED: "unsubscribe",
    SuppressionReason.HARD_BOUNCE: "bounce",
    SuppressionReason.COMPLAINT: "forbid_contact",
    SuppressionReason.MANUAL_DNC: "forbid_contact",
    SuppressionReason.LEGAL: "forbid_contact",
}


def add_suppression(
    *,
    reason: str,
    email: str | None = None,
    domain: str | None = None,
    client: Client | None = None,
    source: str = "",
    note: str = "",
    actor=None,
) -> Suppression:
    """Suppress an address or a whole domain, for one client or (client=None) for everyone.

    Idempotent: an existing entry for the same scope and value is returned unchanged. Existing
    leads with that address move to the matching exit state (unsubscribed, bounced, do-not-contact).
    """
    if reason not in SuppressionReason.values or reason == SuppressionReason.ERASED:
        allowed = ", ".join(r for r in SuppressionReason.values if r != SuppressionReason.ERASED)
        raise DomainError(
            f"Unknown suppression reason {reason!r}; expected one of: {allowed}.", field="reason"
        )
    if bool(email) == bool(domain):
        raise DomainError("Give either an email address or a domain to suppress, not both.", field="email")
    try:
        if email:
            kind, value = SuppressionKind.EMAIL, normalize_email(email)
        else:
            kind, value = SuppressionKind.DOMAIN, normalize_domain(domain or "")
            if "." not in value or "@" in value:
                raise InvalidEmailError(f"{domain!r} is not a domain name (expected e.g. example.com).")
    except InvalidEmailError as exc:
        raise DomainError(str(exc), field="email" if email else "domain") from exc
    with transaction.atomic():
        existing = Suppression.objects.filter(client=client, kind=kind, value=value).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                entry = Suppression.objects.create(
                    client=client,
                    kind=kind,
                    value=value,
                    reason=reason,
                    source=(source or "")[:100],
                    note=note or "",
                    created_by=acting_user(actor),
                    created_at=timezone.now(),
                )
        except IntegrityError:  # a concurrent add of the same entry won
            return Suppression.objects.get(client=client, kind=kind, value=value)
        record_audit_event(
            verb="suppression.added",
            actor=actor,
            target=entry,
            rationale=note,
            metadata={"kind": kind, "reason": reason, "client": client.pk if client else None},
        )
        if kind == SuppressionKind.EMAIL:
            _exit_leads_of_address(normalized_email=value, client=client, reason=reason, actor=actor)
    return entry


def _exit_leads_of_address(*, normalized_email: str, client: Client | None, reason: str, actor) -> None:
    transition = EXIT_FOR_REASON.get(reason)
    if transition is None:
        return
    leads = leads_of_address(normalized_email, client_id=client.pk if client is not None else None)
    for lead in leads.select_related("campaign").order_by("pk"):
        if can_proceed(getattr(lead, transition)):
            transition_lead(lead=lead, transition=transition, actor=actor, rationale=f"Suppressed: {reason}")


def remove_suppression(*, suppression: Suppression | int, rationale: str, actor=None) -> None:
    """Lift a suppression. Needs a rationale (kept in the audit log); erasure entries are permanent."""
    if not (rationale or "").strip():
        raise DomainError(
            "Say why the suppression is lifted; it is kept in the audit log.", field="rationale"
        )
    suppression_id = suppression.pk if isinstance(suppression, Suppression) else suppression
    with transaction.atomic():
        entry = Suppression.objects.select_for_update().filter(pk=suppression_id).first()
        if entry is None:
            raise DomainError(f"Suppression {suppression_id} does not exist.", field="suppression")
        if entry.kind == SuppressionKind.ERASED_EMAIL:
            raise DomainError(
                "An erasure entry cannot be removed: it is what keeps an erased person from being "
                "imported again.",
                field="suppression",
            )
        record_audit_event(
            verb="suppression.removed",
            actor=actor,
            target=entry,
            rationale=rationale.strip(),
            metadata={"kind": entry.kind, "reason": entry.reason, "client": entry.client_id},
        )
        entry.delete()


# --- consent and policy ---------------------------------------------------------------------------


def record_consent(
    *,
    client: Client,
    email: str,
    lawful_basis: str,
    source: str,
    wording: str = "",
    wording_version: str = "",
    captured_at: dt.datetime | None = None,
    evidence: dict[str, Any] | None = None,
    actor=None,
) -> ConsentRecord:
    if lawful_basis not in LawfulBasis.values:
        raise DomainError(
            f"Unknown lawful basis {lawful_basis!r}; expected one of: {', '.join(LawfulBasis.values)}.",
            field="lawful_basis",
        )
    if not (source or "").strip():
        raise DomainError("Say where the consent was captured (form, event, …).", field="source")
    try:
        normalized = validate_and_normalize_email(email)
    except InvalidEmailError as exc:
        raise DomainError(str(exc), field="email") from exc
    with transaction.atomic():
        record = ConsentRecord.objects.create(
            client=client,
            email=email.strip(),
            normalized_email=normalized,
            lawful_basis=lawful_basis,
            source=source.strip()[:200],
            wording=wording or "",
            wording_version=(wording_version or "")[:40],
            captured_at=captured_at or timezone.now(),
            evidence=evidence or {},
        )
        record_audit_event(
            verb="consent.recorded",
            actor=actor,
            target=record,
            metadata={"client": client.pk, "lawful_basis": lawful_basis, "wording_version": wording_version},
        )
    return record


def withdraw_consent(
    *, consent: ConsentRecord | int, actor=None, at: dt.datetime | None = None
) -> ConsentRecord:
    consent_id = consent.pk if isinstance(consent, ConsentRecord) else consent
    with transaction.atomic():
        record = ConsentRecord.objects.select_for_update().get(pk=consent_id)
        if record.withdrawn_at is not None:
            return record
        record.withdrawn_at = at or timezone.now()
        record.save(update_fields=["withdrawn_at"])
        record_audit_event(verb="consent.withdrawn", actor=actor, target=record)
    return record


def set_lead_policy(
    *,
    campaign: Campaign,
    consent_regions: list[str] | None = None,
    unknown_country_needs_consent: bool | None = None,
    icp_weights: dict[str, Any] | None = None,
    actor=None,
) -> LeadPolicy:
    """Change a campaign's lead rules: consent regions (kept on the campaign's compliance policy,
    the one source every app reads), whether a lead without a country counts as inside them, and
    ICP scoring weights."""
    with transaction.atomic():
        policy, _ = LeadPolicy.objects.select_for_update().get_or_create(campaign=campaign)
        regions = None
        if consent_regions is not None:
            regions = [str(r).strip().upper() for r in consent_regions if str(r).strip()]
            unknown = [r for r in regions if not countries_in_regions([r])]
            if unknown:
                raise DomainError(
                    f"Unknown consent regions {unknown}; "
                    f"use {', '.join(REGION_COUNTRIES)} or ISO country codes.",
                    field="consent_regions",
                )
            set_compliance_policy(
                campaign=campaign,
                actor=actor,
                consent_regions=regions,
                rationale="consent regions set from the lead rules",
            )
        if unknown_country_needs_consent is not None:
            policy.unknown_country_needs_consent = unknown_country_needs_consent
        if icp_weights is not None:
            if not isinstance(icp_weights, dict):
                raise DomainError(
                    "ICP weights must be an object (see LeadPolicy.icp_weights).", field="icp_weights"
                )
            policy.icp_weights = icp_weights
        policy.save()
        record_audit_event(
            verb="leads.policy_changed",
            actor=actor,
            campaign=campaign,
            target=policy,
            metadata={"consent_regions": regions, "icp": bool(policy.icp_weights)},
        )
    return policy


# --- erasure ----------------------------------------------------------------------------------------


@dataclass
class ErasureResult:
    digest: str
    leads_anonymized: int = 0
    history_rows_deleted: int = 0
    consent_records_deleted: int = 0
    suppressions_replaced: int = 0
    import_issues_cleared: int = 0
    other_apps: dict[str, int] = field(default_factory=dict)


ERASED_EMAIL_PLACEHOLDER = "erased"


def forget_person(*, email: str, actor=None, rationale: str = "") -> ErasureResult:
    """Right to erasure: remove the address's personal data everywhere and keep only its digest.

    Leads of the address (in every campaign) are anonymized and marked erased, their history rows
    deleted; consent records, plain suppression entries and import-report rows holding the address
    are deleted; other apps' handlers (registered in ``leads.erasure``) scrub their tables; a
    global ``erased_email`` suppression keeps the digest so that the address is refused on any
    later import.
    """
    try:
        normalized = normalize_email(email)
    except InvalidEmailError as exc:
        raise DomainError(str(exc), field="email") from exc
    digest = erased_email_digest(normalized)
    result = ErasureResult(digest=digest)
    now = timezone.now()
    with transaction.atomic():
        leads = list(leads_of_address(normalized).select_for_update().order_by("pk"))
        lead_ids = [lead.pk for lead in leads]
        for lead in leads:
            lead.email = ""
            lead.normalized_email = f"{ERASED_EMAIL_PLACEHOLDER}:{lead.pk}"
            lead.email_domain = ""
            lead.first_name = lead.last_name = lead.title = lead.linkedin_url = lead.timezone = ""
            lead.enrichment = {}
            lead.erased_at = now
            lead.state_reason = "Personal data erased on request."
            lead.updated_at = now
            lead.save_without_historical_record()
        result.leads_anonymized = len(leads)
        history_model = Lead.history.model
        result.history_rows_deleted, _ = history_model.objects.filter(id__in=lead_ids).delete()
        history_by_address, _ = history_model.objects.filter(normalized_email=normalized).delete()
        result.history_rows_deleted += history_by_address

        result.consent_records_deleted, _ = ConsentRecord.objects.filter(normalized_email=normalized).delete()
        # After the delete: simple-history files the deletion itself as one more history row.
        ConsentRecord.history.model.objects.filter(normalized_email=normalized).delete()

        result.suppressions_replaced, _ = Suppression.objects.filter(
            kind=SuppressionKind.EMAIL, value=normalized
        ).delete()
        result.import_issues_cleared = _clear_import_issues(email=email, normalized=normalized)

        Suppression.objects.get_or_create(
            client=None,
            kind=SuppressionKind.ERASED_EMAIL,
            value=digest,
            defaults={
                "reason": SuppressionReason.ERASED,
                "source": "forget_person",
                "created_by": acting_user(actor),
                "created_at": now,
            },
        )
        result.other_apps = erasure.run_handlers(normalized_email=normalized, digest=digest)
        record_audit_event(
            verb="person.erased",
            actor=actor,
            rationale=rationale,
            metadata={
                "digest": digest,
                "leads_anonymized": result.leads_anonymized,
                "history_rows_deleted": result.history_rows_deleted,
                "consent_records_deleted": result.consent_records_deleted,
                "import_issues_cleared": result.import_issues_cleared,
                "other_apps": result.other_apps,
            },
        )
    return result


def _clear_import_issues(*, email: str, normalized: str) -> int:
    """Blank the address in import reports: the raw value as typed, compared case-insensitively."""
    candidates = {email.strip(), email.strip().lower(), normalized}
    total = 0
    for value in candidates:
        total += LeadImportIssue.objects.filter(value__iexact=value).update(
            value="", reason="(erased on request)"
        )
    return total


# --- enrichment and scoring -----------------------------------------------------------------------


# What enrich_and_score_leads itself reads of a lead (scoring facts, the merged enrichment, state).
ENRICHMENT_READS = (
    "campaign",
    "normalized_email",
    "enrichment",
    "title",
    "company",
    "company_size",
    "industry",
    "country",
    "state",
)


def enrich_and_score_leads(
    *,
    campaign: Campaign,
    enricher: LeadEnricher | None = None,
    verifier: EmailVerifier | None = None,
    limit: int = 500,
    now: dt.datetime | None = None,
) -> int:
    """Enrich, verify and score the campaign's new leads, then mark them enriched. Returns how many.

    Scoring uses the campaign's ICP weights when its LeadPolicy has them, else the default formula.
    Higher scores get an earlier ``next_action_at``.
    """
    from .adapters import default_email_verifier, default_enricher

    enricher = enricher or default_enricher()
    verifier = verifier or default_email_verifier()
    now = now or timezone.now()
    policy = lead_policy_for(campaign.pk)
    weights = policy.icp_weights if policy else None
    # One transaction, one locking read and one set-based write for the whole batch (row locks
    # taken in id order, as lead_for_update does).
    batch = Lead.objects.select_for_update(of=("self",)).filter(
        campaign=campaign, state=LeadState.NEW, erased_at__isnull=True
    )
    reads = getattr(enricher, "reads", None)
    if reads is not None:  # the enricher said what it looks at: a third of the columns to load
        batch = batch.only(*ENRICHMENT_READS, *reads)
    with transaction.atomic():
        leads = list(batch.order_by("pk")[:limit])
        for lead in leads:
            verification = verifier.verify(lead.normalized_email)
            enrichment = {**lead.enrichment, **enricher.enrich(lead)}
            enrichment["email_verification"] = verification.as_dict()
            if not lead.company and enrichment.get("company_domain") and not enrichment.get("free_mail"):
                enrichment.setdefault("company_guess", enrichment["company_domain"].split(".")[0].title())
            facts = LeadFacts(
                title=lead.title,
                company_size=lead.company_size,
                industry=lead.industry,
                country=lead.country,
                email_valid=verification.is_valid,
            )
            lead.enrichment = enrichment
            lead.score = score_lead(facts, weights)
            lead.next_action_at = next_action_at_for(lead.score, now)
            lead.mark_enriched()
            lead.updated_at = now
        if leads:
            # Machine-computed fields: the batch is audited once below (leads.enriched, with its
            # count) instead of one simple-history row per lead, which cost more than the update.
            bulk_update_rows(Lead, leads, ["enrichment", "score", "next_action_at", "state", "updated_at"])
    done = len(leads)
    if done:
        record_audit_event(
            verb="leads.enriched", campaign=campaign, metadata={"count": done, "icp": bool(weights)}
        )
    return done


def hold_lead(*, lead: Lead, reason: str, actor=None) -> Lead:
    """Keep a lead out of outreach until an operator releases it (``release_lead``), audited."""
    reason = (reason or "").strip()[:300]
    if not reason:
        raise DomainError("Say why the lead is held.", field="reason")
    with transaction.atomic():
        locked = lead_for_update(lead.pk)
        locked.hold_reason, locked.updated_at = reason, timezone.now()
        locked.save(update_fields=["hold_reason", "updated_at"])
        record_audit_event(
            verb="lead.held", actor=actor, campaign=locked.campaign, target=locked, rationale=reason
        )
    return locked


def release_lead(*, lead: Lead, actor, rationale: str = "") -> Lead:
    """An operator lets a held lead be contacted (its campaign's next cycle may enroll it), audited."""
    with transaction.atomic():
        locked = lead_for_update(lead.pk)
        require_action(actor, "leads.release", locked.campaign)
        if not locked.hold_reason:
            raise DomainError(f"Lead {locked.pk} is not held.", field="lead")
        held_because, locked.hold_reason, locked.updated_at = locked.hold_reason, "", timezone.now()
        locked.save(update_fields=["hold_reason", "updated_at"])
        record_audit_event(
            verb="lead.released",
            actor=actor,
            campaign=locked.campaign,
            target=locked,
            rationale=rationale,
            metadata={"was_held_because": held_because},
        )
    return locked


def add_lead(*, campaign: Campaign, email: str, actor=None, **fields: Any) -> Lead:
    """One lead by hand or API: the same validation, dedup and suppression as a file import."""
    from .importers import import_lead_records

    report = import_lead_records(campaign=campaign, records=[{"email": email, **fields}], actor=actor)
    issue = report.issues.first()
    if issue is not None:
        raise DomainError(f"{issue.field}: {issue.reason}", field=issue.field, kind=issue.kind)
    return Lead.objects.get(campaign=campaign, normalized_email=validate_and_normalize_email(email))


def bulk_add_leads(*, campaign: Campaign, records: Iterable[dict[str, Any]], actor=None):
    from .importers import import_lead_records

    return import_lead_records(campaign=campaign, records=records, actor=actor)


def mark_leads_contacted(
    *, lead_ids: Iterable[int], campaign: Campaign, rationale: str = "first email sent"
) -> int:
    """Set-based `mark_contacted` for the send path: a fixed number of queries however many leads
    a chunk holds (one guarded update returning the leads it changed, their history rows, one audit
    event). Leads already past `enriched` are left as they are."""

    now = timezone.now()
    # The sources of Lead.mark_contacted: the filter is the transition's check, and every row gets
    # the same values, so one UPDATE and one history INSERT … SELECT.
    sources = source_states(Lead, "mark_contacted")
    ids = sorted(
        update_returning_pks(
            Lead.objects.filter(pk__in=list(lead_ids), state__in=sources),
            state=LeadState.CONTACTED,
            state_reason=rationale[:500],
            updated_at=now,
        )
    )
    if ids:
        insert_history_rows(Lead, ids, reason=rationale, when=now)
        record_audit_event(
            verb="lead.mark_contacted",
            campaign=campaign,
            rationale=rationale,
            metadata={"count": len(ids), "lead_ids": ids[:200]},
        )
    return len(ids)
