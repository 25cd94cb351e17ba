"""Edits of creative content: in place for drafts and 'changes requested' versions, a new draft
version of anything else.

An email's HTML part follows its text: when an edit changes the text body and leaves the HTML as it
was, the HTML is derived again from the new text (``creative.email_html.html_from_text``), so it can
never keep saying what the old text said. Only an edit that changes the HTML itself keeps the
operator's HTML; where that HTML then says something else than the text, the review shows the
differing lines and approving needs an explicit acknowledgement (``review.py``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from campaigns.actors import acting_user
from campaigns.errors import DomainError
from campaigns.models import User
from campaigns.services.audit import record_audit_event

from ..email_html import html_from_text
from ..lock_objects import creative_variant_for_update
from ..models import CreativeState, CreativeVariant, Platform
from .common import EDITABLE_CONTENT, apply_checks


def _normalised_changes(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - set(EDITABLE_CONTENT)
    if unknown:
        raise DomainError(f"These creative fields cannot be edited: {', '.join(sorted(unknown))}.")
    if "hashtags" in changes:
        tags = changes["hashtags"]
        if isinstance(tags, str):
            tags = tags.replace(",", " ").split()
        changes["hashtags"] = [str(t).strip().lstrip("#") for t in tags if str(t).strip()]
    return changes


def _with_html_following_text(source: CreativeVariant, changes: dict[str, Any]) -> dict[str, Any]:
    """The changes an edit really makes, the HTML part derived from a changed text body unless the
    edit changes the HTML too. Fields given with their current value are no change (an API client
    sending the whole variant back, a form posting every field)."""
    real = {key: value for key, value in changes.items() if value != getattr(source, key)}
    if source.platform != Platform.EMAIL:
        return real
    # An emptied HTML field means "derive it from the text", as the reviewers' warning says: an
    # email is never left with an HTML part that says nothing (or the old text) next to its body.
    emptied = "body_html" in changes and not str(changes["body_html"] or "").strip()
    if emptied or ("body" in real and "body_html" not in real):
        derived = html_from_text(real.get("body", source.body))
        if derived != source.body_html:
            real["body_html"] = derived
        else:
            real.pop("body_html", None)
    return real


def edit_creative(
    *, variant: CreativeVariant | int, actor: User | None = None, rationale: str = "", **changes: Any
) -> CreativeVariant:
    """Edit content. Drafts and 'changes requested' versions change in place; any other version
    (approved, in review, rejected) is left untouched and a new draft version is made from it.
    Either way the result is a draft or 'changes requested' version: submit it for review next."""
    changes = _normalised_changes(dict(changes))
    variant_id = variant.pk if isinstance(variant, CreativeVariant) else int(variant)
    with transaction.atomic():
        source = creative_variant_for_update(variant_id)
        if source.campaign.is_final:
            raise DomainError(
                f"Campaign {source.campaign_id} is {source.campaign.state}; its creative is frozen."
            )
        changes = _with_html_following_text(source, changes)
        if source.state in (CreativeState.DRAFT, CreativeState.CHANGES_REQUESTED):
            target = source
            for key, value in changes.items():
                setattr(target, key, value)
            verb = "creative.edited"
        else:
            target = CreativeVariant(
                campaign=source.campaign,
                brief=source.brief,
                platform=source.platform,
                angle=source.angle,
                variant_of=source,
                root_id=source.root_id or source.pk,
                generation=source.generation + 1,
                generator="edit",
                created_by=acting_user(actor),
                created_at=timezone.now(),
                **{key: changes.get(key, getattr(source, key)) for key in EDITABLE_CONTENT},
            )
            verb = "creative.versioned"
        apply_checks(target)
        target._change_reason = rationale or verb
        target.save()
        record_audit_event(
            verb=verb,
            actor=actor,
            campaign=source.campaign,
            target=target,
            rationale=rationale,
            metadata={"from": source.pk, "fields": sorted(changes), "generation": target.generation},
        )
    return target
