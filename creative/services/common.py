"""What the creative services share: the editable fields, running the checks, the acting user."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.utils import timezone

from campaigns.risk import quoted_texts

from ..checks import CheckSettings, CreativeContent, run_checks
from ..models import CreativeVariant

EDITABLE_CONTENT = ("subject", "preheader", "body", "body_html", "cta", "hashtags", "media_notes")


def content_of(variant: CreativeVariant) -> CreativeContent:
    return CreativeContent(
        platform=variant.platform,
        subject=variant.subject,
        preheader=variant.preheader,
        body=variant.body,
        body_html=variant.body_html,
        cta=variant.cta,
        hashtags=tuple(variant.hashtags or ()),
        media_notes=variant.media_notes,
    )


def apply_checks(variant: CreativeVariant) -> None:
    settings = CheckSettings(
        quoted=tuple(quoted_texts(variant.campaign)),
        spam_score_max=django_settings.AICMO_SPAM_SCORE_MAX,
    )
    variant.check_findings = [f.as_dict() for f in run_checks(content_of(variant), settings)]
    variant.checks_run_at = timezone.now()
