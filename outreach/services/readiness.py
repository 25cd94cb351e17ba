"""Sender readiness: what an inbox provider checks about a sending domain, checked by us first
(docs/senders.md).

Per sending domain, through ``outreach.dns`` (``AICMO_DNS_NAMESERVERS``):

- SPF: one ``v=spf1`` TXT record, including the sending service (``AICMO_SPF_INCLUDE``), not ``+all``;
- DKIM: a public key at ``<selector>._domainkey.<domain>`` (the mailbox's selector, else
  ``AICMO_DKIM_SELECTOR``);
- DMARC: a ``v=DMARC1`` record at ``_dmarc.<domain>`` (or its parent domain's), its policy shown;
- MX: the domain takes mail (replies and bounces have somewhere to go);

and once for the site: the https unsubscribe URL answers a one-click POST (RFC 8058) with 200 and no
redirect (``AICMO_CHECK_UNSUBSCRIBE_POST``; off by default with DEBUG on). A campaign with a sequence
that tracks opens or clicks also needs the client's tracking domain to be a CNAME (to
``AICMO_TRACKING_CNAME_TARGET``, the ESP's tracking host, when set), and its tracking settings to
pass ``outreach.sequence_tracking`` still.

A live email campaign does not activate (or resume) while a domain it sends from fails
(``sender_readiness_blockers``, an activation check). Every day ``recheck_sender_readiness`` checks
every active mailbox again: a failure pauses it (``is_active`` off, ``paused_reason``) with a
``mailbox.paused`` audit event. An approver may let a failing mailbox send with a rationale
(``override_mailbox_readiness``); the override lasts until its checks pass again.
"""

from __future__ import annotations

import hashlib
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import dns.exception
import dns.resolver
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from campaigns.errors import DomainError
from campaigns.models import Campaign, User
from campaigns.permissions import require_action_unless_system
from campaigns.sender_identity import sender_identity
from campaigns.services.audit import record_audit_event

from ..dns import configured_nameservers, resolver, txt_records
from ..models import SendingMailbox, Sequence
from ..sequence_tracking import tracking_problems
from ..unsubscribe import make_unsubscribe_token, unsubscribe_url
from .mailbox_health import is_health_pause, resume_mailbox_health
from .mailboxes import pause_mailbox

logger = logging.getLogger(__name__)

__all__ = [
    "DomainReadiness",
    "check_domain",
    "check_tracking_domain",
    "check_unsubscribe_post",
    "look_up_sender_readiness",
    "override_mailbox_readiness",
    "recheck_mailbox",
    "recheck_sender_readiness",
    "resume_mailbox",
    "sender_readiness_blockers",
]

HTTP_SECONDS = 10


@dataclass(frozen=True)
class DomainReadiness:
    domain: str
    selector: str
    problems: tuple[str, ...] = ()
    dmarc_policy: str = ""  # "none", "quarantine", "reject"; "" when there is no record
    details: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def ready(self) -> bool:
        return not self.problems


# --- DNS checks --------------------------------------------------------------------------------------


def _lookup_seconds() -> float:
    return float(getattr(settings, "AICMO_DNS_LOOKUP_SECONDS", 4.0))


def _txt(name: str) -> list[str]:
    return [r.decode("utf-8", "replace") for r in txt_records(name, lifetime=_lookup_seconds())]


def _spf_includes() -> list[str]:
    raw = getattr(settings, "AICMO_SPF_INCLUDE", "") or ""
    return [part.strip().lower() for part in raw.split(",") if part.strip()]


def _spf_terms(record: str) -> list[str]:
    return [term.lower() for term in record.split()[1:]]


def _spf_covers(terms: list[str], include: str, *, depth: int = 0) -> bool:
    """Does the record include ``include``, directly or one include deeper (a provider's own record)?"""
    targets = [t.split(":", 1)[1] for t in terms if t.lstrip("+").startswith("include:")]
    if include in targets:
        return True
    if depth >= 1:
        return False
    for target in targets:
        nested = [r for r in _txt(target) if r.lower().startswith("v=spf1")]
        if nested and _spf_covers(_spf_terms(nested[0]), include, depth=depth + 1):
            return True
    return False


def _check_spf(domain: str, problems: list[str], details: dict[str, str]) -> None:
    records = [r for r in _txt(domain) if r.lower().split(" ", 1)[0] == "v=spf1"]
    if not records:
        problems.append(f'SPF: {domain} has no SPF record (a TXT record "v=spf1 … -all")')
        return
    if len(records) > 1:
        problems.append(f"SPF: {domain} has {len(records)} SPF records; receivers accept only one")
        return
    details["spf"] = records[0]
    terms = _spf_terms(records[0])
    if "+all" in terms or "all" in terms:
        problems.append(f"SPF: {domain}'s record ends in +all: anyone may send as this domain")
    for include in _spf_includes():
        if not _spf_covers(terms, include):
            problems.append(
                f"SPF: {domain}'s record does not include the sending service (include:{include})"
            )


def _check_dkim(domain: str, selector: str, problems: list[str], details: dict[str, str]) -> None:
    name = f"{selector}._domainkey.{domain}"
    records = _txt(name)
    key = next((r for r in records if "p=" in r.replace(" ", "")), None)
    if key is None:
        problems.append(f"DKIM: no key published at {name} (selector {selector!r})")
        return
    tags = dict(part.strip().split("=", 1) for part in key.replace(" ", "").split(";") if "=" in part.strip())
    if not tags.get("p"):
        problems.append(f"DKIM: the key at {name} is revoked (empty p=)")
        return
    details["dkim"] = name


def _dmarc_names(domain: str) -> list[str]:
    """``_dmarc.<domain>``, then its parents down to two labels (the organisational domain's record
    covers a subdomain without its own; RFC 7489 §6.6.3, without the public-suffix list)."""
    labels = domain.split(".")
    return [f"_dmarc.{'.'.join(labels[i:])}" for i in range(0, max(1, len(labels) - 1))]


def _check_dmarc(domain: str, problems: list[str], details: dict[str, str]) -> str:
    for name in _dmarc_names(domain):
        records = [r for r in _txt(name) if r.replace(" ", "").lower().startswith("v=dmarc1")]
        if records:
            tags = dict(part.strip().split("=", 1) for part in records[0].split(";") if "=" in part.strip())
            policy = tags.get("p", "").strip().lower()
            details["dmarc"] = f"{name}: p={policy or '?'}"
            if policy not in ("none", "quarantine", "reject"):
                problems.append(f"DMARC: the record at {name} has no valid policy (p=none|quarantine|reject)")
            return policy
    problems.append(f'DMARC: no DMARC record at _dmarc.{domain} (a TXT record "v=DMARC1; p=none; …")')
    return ""


def _check_mx(domain: str, problems: list[str], details: dict[str, str]) -> None:
    try:
        answer = resolver(lifetime=_lookup_seconds()).resolve(domain, "MX")
        hosts = [str(r.exchange).rstrip(".") for r in answer if str(r.exchange).rstrip(".")]
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        hosts = []
    if not hosts:
        problems.append(f"MX: {domain} has no MX record: replies and bounces have nowhere to go")
    else:
        details["mx"] = ", ".join(hosts)


def _check_domain_now(domain: str, selector: str) -> DomainReadiness:
    problems: list[str] = []
    details: dict[str, str] = {}
    policy = ""
    checks = (
        ("SPF", lambda: _check_spf(domain, problems, details)),
        ("DKIM", lambda: _check_dkim(domain, selector, problems, details)),
        ("DMARC", lambda: _check_dmarc(domain, problems, details)),
        ("MX", lambda: _check_mx(domain, problems, details)),
    )
    for label, run in checks:
        try:
            result = run()
        except dns.exception.Timeout:
            # No answer at all: the other look-ups would wait just as long for nothing.
            problems.append(
                f"DNS: no answer from the nameservers (the {label} look-up for {domain} timed out)"
            )
            break
        except dns.exception.DNSException as exc:
            problems.append(f"{label}: the DNS look-up for {domain} failed ({exc.__class__.__name__})")
            continue
        if label == "DMARC":
            policy = result or ""
    return DomainReadiness(domain, selector, tuple(problems), policy, details)


def check_domain(domain: str, selector: str = "", *, fresh: bool = False) -> DomainReadiness:
    """The domain's readiness; reused for AICMO_SENDER_READINESS_MAX_AGE_SECONDS unless ``fresh``."""
    domain = domain.strip().strip(".").lower()
    selector = selector or settings.AICMO_DKIM_SELECTOR
    if not domain:
        return DomainReadiness("", selector, ("no sending domain: set a from address or a sending domain",))
    what = "|".join((domain, selector, ",".join(_spf_includes()), repr(configured_nameservers())))
    key = "sender-readiness:" + hashlib.sha256(what.encode()).hexdigest()
    if not fresh:
        cached = cache.get(key)
        if cached is not None:
            return cached
    result = _check_domain_now(domain, selector)
    max_age = settings.AICMO_SENDER_READINESS_MAX_AGE_SECONDS
    if max_age > 0:
        cache.set(key, result, max_age)
    return result


def check_tracking_domain(domain: str, *, fresh: bool = False) -> list[str]:
    """Problems with a tracking domain's CNAME; reused like ``check_domain`` unless ``fresh``."""
    domain = domain.strip().strip(".").lower()
    target = (settings.AICMO_TRACKING_CNAME_TARGET or "").strip().strip(".").lower()
    what = "|".join((domain, target, repr(configured_nameservers())))
    key = "sender-readiness:tracking:" + hashlib.sha256(what.encode()).hexdigest()
    if not fresh:
        cached = cache.get(key)
        if cached is not None:
            return cached
    try:
        answer = resolver(lifetime=_lookup_seconds()).resolve(domain, "CNAME")
        targets = [str(record.target).rstrip(".").lower() for record in answer]
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        targets = []
    except dns.exception.DNSException as exc:
        return [f"tracking: the DNS look-up for {domain} failed ({exc.__class__.__name__})"]
    if not targets:
        problems = [f"tracking: {domain} has no CNAME record (point it at the ESP's tracking host)"]
    elif target and target not in targets:
        problems = [f"tracking: {domain} points at {', '.join(targets)}, not the ESP's {target}"]
    else:
        problems = []
    max_age = settings.AICMO_SENDER_READINESS_MAX_AGE_SECONDS
    if max_age > 0:
        cache.set(key, problems, max_age)
    return problems


# --- the one-click unsubscribe probe ---------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer of its own here (RFC 8058 forbids one)


def check_unsubscribe_post(*, fresh: bool = False) -> list[str]:
    """POST ``List-Unsubscribe=One-Click`` to a real (harmless: no such enrollment) link; the answer
    is reused for AICMO_SENDER_READINESS_MAX_AGE_SECONDS unless ``fresh``."""
    if not settings.AICMO_CHECK_UNSUBSCRIBE_POST:
        return []
    key = "sender-readiness:unsubscribe:" + hashlib.sha256(settings.PUBLIC_BASE_URL.encode()).hexdigest()
    if not fresh:
        cached = cache.get(key)
        if cached is not None:
            return cached
    problems = _post_unsubscribe_now()
    max_age = settings.AICMO_SENDER_READINESS_MAX_AGE_SECONDS
    if max_age > 0:
        cache.set(key, problems, max_age)
    return problems


def _post_unsubscribe_now() -> list[str]:
    url = unsubscribe_url(make_unsubscribe_token(enrollment_id=0))
    if urlsplit(url).scheme != "https":
        return [f"unsubscribe: {settings.PUBLIC_BASE_URL} is not https (List-Unsubscribe links must be)"]
    request = urllib.request.Request(
        url,
        data=b"List-Unsubscribe=One-Click",
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=HTTP_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        return [f"unsubscribe: the one-click POST to {settings.PUBLIC_BASE_URL}/u/… failed ({exc})"]
    if status != 200:
        extra = " (RFC 8058 forbids redirects)" if 300 <= status < 400 else ""
        return [f"unsubscribe: the one-click POST answered {status}, not 200{extra}"]
    return []


# --- activation ---------------------------------------------------------------------------------------


def _active_sequences(campaign: Campaign) -> list[Sequence]:
    return list(
        Sequence.objects.filter(campaign=campaign, is_active=True)
        .select_related("mailbox")
        .prefetch_related("mailboxes")  # the pool first emails rotate over sends too
    )


def _campaign_senders(sequences: list[Sequence]) -> tuple[list[SendingMailbox], bool]:
    """The mailboxes of the campaign's active sequences, and whether one has none (identity From)."""
    mailboxes = {s.mailbox.pk: s.mailbox for s in sequences if s.mailbox is not None}
    mailboxes.update({box.pk: box for s in sequences for box in s.mailboxes.all()})
    return list(mailboxes.values()), any(s.mailbox is None and not s.mailboxes.all() for s in sequences)


def _tracking_reasons(campaign: Campaign, sequences: list[Sequence]) -> tuple[list[str], str]:
    """Why the tracking sequences may not track now, and the tracking domain to look up ("" none)."""
    reasons: list[str] = []
    tracking = [s for s in sequences if s.track_opens or s.track_clicks]
    for sequence in tracking:
        problems = tracking_problems(
            campaign=campaign,
            track_opens=sequence.track_opens,
            track_clicks=sequence.track_clicks,
            plain_text_only=sequence.plain_text_only,
            mailboxes=[sequence.mailbox, *sequence.mailboxes.all()],
        )
        reasons.extend(f"sequence “{sequence.name}” tracks opens or clicks: {p}" for p in problems.values())
    domain = sender_identity(campaign).tracking_domain if tracking else ""
    return reasons, domain


def _paused_pool_reasons(sequences: list[Sequence]) -> list[str]:
    """A sequence whose every mailbox is paused cannot send; one with a healthy mailbox left sends
    from it (rotation passes paused ones by), so a single paused pool mailbox blocks nothing."""
    blocked: dict[int, str] = {}
    for sequence in sequences:
        senders = {box.pk: box for box in (sequence.mailbox, *sequence.mailboxes.all()) if box is not None}
        paused = [box for box in senders.values() if not box.is_active and box.paused_reason]
        if paused and len(paused) == len(senders):
            blocked.update({box.pk: f"mailbox {box.email} is paused: {box.paused_reason}" for box in paused})
    return list(blocked.values())


def _readiness_targets(campaign: Campaign) -> tuple[list[str], dict[tuple[str, str], str], str]:
    """What blocks a live email campaign before any lookup, the (domain, selector) pairs it sends
    from, each with who sends from it, and the tracking domain to look up ("" none)."""
    sequences = _active_sequences(campaign)
    reasons, tracking_domain = _tracking_reasons(campaign, sequences)
    mailboxes, identity_sends = _campaign_senders(sequences)
    reasons.extend(_paused_pool_reasons(sequences))
    domains: dict[tuple[str, str], str] = {}
    if not settings.AICMO_SENDER_READINESS_REQUIRED:
        return reasons, domains, ""
    for mailbox in mailboxes:
        if not mailbox.is_active:
            continue
        if mailbox.readiness_override:
            continue  # an approver let it send, with a rationale (audited)
        domains.setdefault((mailbox.domain, mailbox.selector), f"mailbox {mailbox.email}")
    if identity_sends or not mailboxes:
        identity = sender_identity(campaign)
        if not identity.from_email:
            reasons.append(
                "a sequence without a mailbox sends from the sender identity, which has no from "
                "address: set one on the client or the campaign, or give the sequence a mailbox"
            )
        else:
            domains.setdefault((identity.domain, ""), f"the sender identity ({identity.from_email})")
    return reasons, domains, tracking_domain


def _applies(campaign: Campaign) -> bool:
    return campaign.is_live and "email" in (campaign.channels or [])


def look_up_sender_readiness(campaign: Campaign) -> None:
    """Registered as an activation pre-check: the DNS and HTTP lookups, made before the activation's
    transaction locks the campaign; ``sender_readiness_blockers`` then reads their cached answers."""
    if not _applies(campaign) or not settings.AICMO_SENDER_READINESS_REQUIRED:
        return
    _, domains, tracking_domain = _readiness_targets(campaign)
    for domain, selector in domains:
        check_domain(domain, selector, fresh=True)
    if tracking_domain:
        check_tracking_domain(tracking_domain, fresh=True)
    check_unsubscribe_post(fresh=True)


def sender_readiness_blockers(campaign: Campaign) -> list[str]:
    """Registered as an activation check: a live email campaign sends only from ready domains."""
    if not _applies(campaign):
        return []
    reasons, domains, tracking_domain = _readiness_targets(campaign)
    if not settings.AICMO_SENDER_READINESS_REQUIRED:
        return reasons
    for (domain, selector), who in domains.items():
        for problem in check_domain(domain, selector).problems:
            reasons.append(f"sender readiness of {who}: {problem}")
    if tracking_domain:
        reasons.extend(check_tracking_domain(tracking_domain))
    reasons.extend(check_unsubscribe_post())
    return reasons


# --- the daily re-check and the approver's override -------------------------------------------------


def _store(mailbox: SendingMailbox, problems: list[str], now: datetime) -> None:
    mailbox.readiness_checked_at = now
    mailbox.readiness_problems = problems


def recheck_mailbox(
    mailbox: SendingMailbox, *, now: datetime | None = None, site_problems: list[str] | None = None
) -> list[str]:
    """Check one mailbox's domain now and store the result. A failing mailbox without an override
    is paused with an audit event; a passing one loses its override (the next failure pauses it)."""
    now = now or timezone.now()
    result = check_domain(mailbox.domain, mailbox.selector, fresh=True)
    if site_problems is None:
        site_problems = check_unsubscribe_post(fresh=True)
    problems = [*result.problems, *site_problems]
    with transaction.atomic():
        locked = SendingMailbox.objects.select_for_update().get(pk=mailbox.pk)
        _store(locked, problems, now)
        fields = ["readiness_checked_at", "readiness_problems"]
        if not problems and locked.readiness_override:
            locked.readiness_override, locked.readiness_override_by, locked.readiness_override_at = (
                "",
                None,
                None,
            )
            fields += ["readiness_override", "readiness_override_by", "readiness_override_at"]
        elif problems and locked.is_active and not locked.readiness_override:
            pause_mailbox(
                locked,
                reason="sender readiness: " + "; ".join(problems),
                rationale="the daily sender readiness check failed",
                metadata={"problems": problems, "dmarc_policy": result.dmarc_policy},
            )
            logger.warning(
                "mailbox %s paused: sender readiness failed (%s)", locked.email, "; ".join(problems)
            )
        locked.save(update_fields=fields)
    mailbox.refresh_from_db()
    return problems


def recheck_sender_readiness(*, now: datetime | None = None) -> dict[str, int]:
    """Beat, daily: every active mailbox checked again (paused ones wait for a person)."""
    now = now or timezone.now()
    counts = {"checked": 0, "paused": 0, "ready": 0}
    if not settings.AICMO_SENDER_READINESS_REQUIRED:
        return counts
    site_problems = check_unsubscribe_post(fresh=True)
    for mailbox in SendingMailbox.objects.filter(is_active=True).order_by("pk"):
        counts["checked"] += 1
        problems = recheck_mailbox(mailbox, now=now, site_problems=site_problems)
        if not problems:
            counts["ready"] += 1
        elif not mailbox.is_active:
            counts["paused"] += 1
    return counts


def override_mailbox_readiness(
    *, mailbox: SendingMailbox, actor: User | None, rationale: str
) -> SendingMailbox:
    """An approver lets a mailbox send despite failing checks (and resumes it), with a rationale."""
    if is_health_pause(mailbox):  # paused for its bounces or complaints: the approver resumes it
        return resume_mailbox_health(mailbox=mailbox, actor=actor, rationale=rationale)
    require_action_unless_system(actor, "mailbox.override_readiness")
    rationale = (rationale or "").strip()
    if not rationale:
        raise DomainError("Say why this mailbox may send despite its failing checks.", field="rationale")
    with transaction.atomic():
        locked = SendingMailbox.objects.select_for_update().get(pk=mailbox.pk)
        was_paused = not locked.is_active and bool(locked.paused_reason)
        locked.readiness_override = rationale
        locked.readiness_override_by = actor
        locked.readiness_override_at = timezone.now()
        if was_paused:
            locked.is_active, locked.paused_reason = True, ""
        locked.save(
            update_fields=[
                "readiness_override",
                "readiness_override_by",
                "readiness_override_at",
                "is_active",
                "paused_reason",
            ]
        )
        record_audit_event(
            verb="mailbox.readiness_overridden",
            actor=actor,
            target=locked,
            rationale=rationale,
            metadata={"mailbox": locked.email, "problems": locked.readiness_problems, "resumed": was_paused},
        )
    return locked


def resume_mailbox(*, mailbox: SendingMailbox, actor: User | None) -> list[str]:
    """Check again now; a paused mailbox whose checks pass sends again. Returns what still fails."""
    mailbox.refresh_from_db()
    if is_health_pause(mailbox):  # good DNS does not undo bounces: an approver resumes it
        return [mailbox.paused_reason]
    problems = recheck_mailbox(mailbox)
    if problems:
        return problems
    with transaction.atomic():
        locked = SendingMailbox.objects.select_for_update().get(pk=mailbox.pk)
        if not locked.is_active and locked.paused_reason:
            locked.is_active, locked.paused_reason = True, ""
            locked.save(update_fields=["is_active", "paused_reason"])
            record_audit_event(
                verb="mailbox.resumed", actor=actor, target=locked, metadata={"mailbox": locked.email}
            )
    return []
