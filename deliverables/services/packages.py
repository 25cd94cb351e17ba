"""Delivery packages: the only writer of ``DeliveryPackage`` rows and their files."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.actors import acting_user
from campaigns.errors import DomainError
from campaigns.models import AuditEvent, Campaign, User
from campaigns.permissions import require_action_unless_system
from campaigns.services.audit import record_audit_event

from ..models import DeliveryPackage, Milestone
from ..rendering import calendar_rows, creative_rows, csv_bytes, decision_rows, render_pdf, zip_bytes
from ..selectors import (
    MILESTONE_VERBS,
    PackageContents,
    milestone_events_since,
    milestone_watermark,
    next_package_version,
    package_contents,
)
from ..storage import deliverables_storage

logger = logging.getLogger(__name__)

VERSION_ATTEMPTS = 3  # two builds of one campaign at once: the loser takes the next version
MILESTONE_PACKAGES_PER_RUN = 50


def _local(value, tz):
    return value.astimezone(tz) if value else None


def package_context(contents: PackageContents, *, version: int, milestone: str) -> dict[str, Any]:
    """What the package PDF shows, with every time in the campaign's zone."""
    tz = contents.tz
    strategy = contents.strategy
    return {
        "campaign": contents.campaign,
        "version": version,
        "milestone_label": Milestone(milestone).label,
        "prepared_local": timezone.now().astimezone(tz),
        "tz": str(tz),
        "strategy": strategy,
        "strategy_approved_local": _local(strategy.decided_at, tz) if strategy else None,
        "strategy_approved_by": (
            strategy.decided_by.get_username() if strategy and strategy.decided_by else "system"
        ),
        "pillars": list(strategy.pillars or []) if strategy else [],
        "channel_mix": sorted((strategy.channel_mix or {}).items()) if strategy else [],
        "kpi_targets": sorted((strategy.kpi_targets or {}).items()) if strategy else [],
        "budget_split": list(strategy.budget_split or []) if strategy else [],
        "risks": list(strategy.risks or []) if strategy else [],
        "strategy_decisions": [
            {
                "when": _local(d.created_at, tz),
                "who": d.actor_label,
                "action": d.get_action_display(),
                "why": d.rationale,
            }
            for d in contents.strategy_decisions
        ],
        "plan": contents.plan,
        "phases": contents.phases,
        "calendar": [
            {
                "when": _local(item.scheduled_at, tz),
                "platform": item.get_platform_display(),
                "content_type": item.content_type,
                "theme": item.theme,
            }
            for item in contents.calendar
        ],
        "creatives": [
            {
                "id": c.pk,
                "platform": c.get_platform_display(),
                "angle": c.angle,
                "generation": c.generation,
                "subject": c.subject,
                "body": c.body,
                "cta": c.cta,
                "approved_at": _local(c.decided_at, tz),
                "approved_by": c.decided_by.get_username() if c.decided_by else "system",
                "rationale": c.decision_rationale,
            }
            for c in contents.creatives
        ],
        "decisions": [
            {
                "when": _local(e.created_at, tz),
                "who": e.actor_label,
                "verb": e.verb,
                "target": e.target_repr,
                "why": e.rationale,
            }
            for e in contents.decisions
        ],
    }


def package_files(contents: PackageContents, *, version: int, milestone: str) -> tuple[bytes, bytes]:
    """(PDF, ZIP) of a package; nothing stored."""
    pdf = render_pdf(
        "deliverables/package.html", package_context(contents, version=version, milestone=milestone)
    )
    archive = zip_bytes(
        {
            "calendar.csv": csv_bytes(calendar_rows(contents)),
            "creative.csv": csv_bytes(creative_rows(contents)),
            "decisions.csv": csv_bytes(decision_rows(contents)),
        }
    )
    return pdf, archive


def build_delivery_package(
    *,
    campaign: Campaign,
    actor: User | None = None,
    milestone: str = Milestone.ON_DEMAND,
    milestone_event: AuditEvent | None = None,
) -> DeliveryPackage:
    """Render and store the next version of the campaign's package (``actor=None``: the system,
    as beat and commands run it)."""
    require_action_unless_system(actor, "package.build", campaign)
    contents = package_contents(campaign)
    storage = deliverables_storage()
    for _ in range(VERSION_ATTEMPTS):
        version = next_package_version(campaign)
        pdf, archive = package_files(contents, version=version, milestone=milestone)
        # A random part: a name is never guessed from the campaign and version, nor reused.
        folder = f"deliverables/{campaign.client.slug}/campaign-{campaign.pk}"
        stem = f"{folder}/package-v{version}-{secrets.token_hex(6)}"
        pdf_name = storage.save(f"{stem}.pdf", ContentFile(pdf))
        zip_name = storage.save(f"{stem}.zip", ContentFile(archive))
        try:
            with transaction.atomic():
                package = DeliveryPackage.objects.create(
                    campaign=campaign,
                    version=version,
                    milestone=milestone,
                    milestone_event=milestone_event,
                    pdf=pdf_name,
                    archive=zip_name,
                    pdf_bytes=len(pdf),
                    archive_bytes=len(archive),
                    contents=contents.summary(),
                    created_by=acting_user(actor),
                    created_at=timezone.now(),
                )
                record_audit_event(
                    verb="delivery_package.built",
                    actor=actor,
                    campaign=campaign,
                    target=package,
                    rationale=f"{Milestone(milestone).label}: version {version}",
                    metadata={"version": version, "milestone": milestone, **contents.summary()},
                )
        except IntegrityError:
            storage.delete(pdf_name)
            storage.delete(zip_name)
            continue
        return package
    raise DomainError(
        f"Could not number a package for campaign {campaign.pk}: other builds kept taking the next "
        "version. Try again."
    )


def build_milestone_packages(*, limit: int = MILESTONE_PACKAGES_PER_RUN) -> list[DeliveryPackage]:
    """A package for each campaign with a strategy or creative approval newer than the last one a
    package answered to (beat runs this). Approvals are taken in order and a failure stops the run,
    so the next run starts again from the approval that failed; nothing is skipped."""
    built = []
    for event in milestone_events_since(milestone_watermark())[:limit]:
        try:
            built.append(
                build_delivery_package(
                    campaign=event.campaign, milestone=MILESTONE_VERBS[event.verb], milestone_event=event
                )
            )
        except Exception:
            logger.exception("delivery package for %s (audit event %s) failed", event.campaign_id, event.pk)
            break
    return built


def record_package_download(*, package: DeliveryPackage, kind: str, actor: User | None) -> None:
    """Who fetched which file of a package, in the audit log (the client's side of the delivery)."""
    record_audit_event(
        verb="delivery_package.downloaded",
        actor=actor,
        campaign=package.campaign,
        target=package,
        metadata={"version": package.version, "file": kind},
    )
