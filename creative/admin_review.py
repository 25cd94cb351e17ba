"""The review loop's admin pages and pieces, shared by the variant page and the comparison page:
which review buttons a user sees for a variant, the text/HTML difference warning, the preview for a
lead the reviewer picks, and the "submit for review" and "send a test to me" actions.

Every action is the service's (``creative.services``); a refusal — a role without the action, a
state that does not allow it, a user without an email address, the hourly test limit — comes back
as a message on the page the user was on, never as an error page."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django_fsm import can_proceed

from campaigns.admin_kit.refusals import refusals_as_messages
from campaigns.permissions import is_allowed, require_action

from .models import CreativeState, CreativeVariant, Platform
from .preview import lead_choices, sender_for
from .services import (
    LeadNotInCampaignError,
    html_differences,
    render_creative,
    render_for_lead,
    send_test_email,
    submit_creative_for_review,
)

LEAD_CHOICES_SHOWN = 200


def review_context(request: HttpRequest, variant: CreativeVariant) -> dict:
    """What a user may do to ``variant`` from here, and the URLs for it (template context)."""
    user, campaign = request.user, variant.campaign
    may_decide = is_allowed(user, "creative.decide", campaign)
    return {
        "can_submit": can_proceed(variant.submit_for_review)
        and is_allowed(user, "creative.submit", campaign),
        "can_decide": variant.state == CreativeState.IN_REVIEW and may_decide,
        "can_reject": can_proceed(variant.reject) and may_decide,
        "can_test_send": variant.platform == Platform.EMAIL
        and is_allowed(user, "creative.test_send", campaign),
        "html_differences": html_differences(variant),
        "differences_html": differences_html(variant),
        "preview_url": reverse("admin:creative_creativevariant_preview", args=[variant.pk]),
        "submit_url": reverse("admin:creative_creativevariant_submit", args=[variant.pk]),
        "test_send_url": reverse("admin:creative_creativevariant_test_send", args=[variant.pk]),
        "compare_url": reverse("admin:creative_creativebrief_compare", args=[variant.brief_id]),
        "decide_url": reverse("admin:creative_creativebrief_compare", args=[variant.brief_id]),
        "new_sequence_url": _new_sequence_url(request, variant),
    }


def _new_sequence_url(request: HttpRequest, variant: CreativeVariant) -> str:
    """An approved email is ready for a sequence: the New sequence page for its campaign (by URL
    name: ``outreach`` sits above ``creative``)."""
    if variant.platform != Platform.EMAIL or variant.state != CreativeState.APPROVED:
        return ""
    if not request.user.has_perm("outreach.add_sequence"):
        return ""
    return f"{reverse('admin:outreach_sequence_new')}?campaign={variant.campaign_id}"


def differences_html(variant: CreativeVariant) -> str:
    """The text/HTML comparison a reviewer sees: a warning with the differing lines, or one line
    saying the two agree (or that there is nothing to compare)."""
    if variant.platform != Platform.EMAIL:
        return mark_safe("<span>A post: no HTML part.</span>")  # constant, no user data
    if not variant.body_html.strip():
        return mark_safe("<span>Text only: no HTML part.</span>")  # constant
    differences = html_differences(variant)
    if not differences:
        return mark_safe(
            '<span style="color:#198754">The HTML part says what the text says.</span>'
        )  # constant
    rows = format_html_join(
        "",
        "<tr><td><pre>{}</pre></td><td><pre>{}</pre></td></tr>",
        (("\n".join(d.text) or "—", "\n".join(d.html) or "—") for d in differences),
    )
    return format_html(
        '<div class="html-differences" style="border:2px solid #b8860b;padding:6px;background:#fff8e1">'
        "<b>The HTML part says something else than the text</b> in {} place(s): readers of each "
        "would get a different email. Fix the HTML (empty it to derive it from the text), or "
        "acknowledge the difference when approving."
        '<table style="width:100%"><thead><tr><th>Text says</th><th>HTML says</th></tr></thead>'
        "<tbody>{}</tbody></table></div>",
        len(differences),
        rows,
    )


def _variant_or_404(model_admin, request: HttpRequest, variant_id: int) -> CreativeVariant:
    variant = get_object_or_404(CreativeVariant.objects.select_related("campaign", "brief"), pk=variant_id)
    if not model_admin.has_view_permission(request, variant):
        raise PermissionDenied
    return variant


def _lead_id(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() else None


def back_to(request: HttpRequest, default: str) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(default)


def variant_preview_view(model_admin) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, variant_id: int) -> HttpResponse:
        variant = _variant_or_404(model_admin, request, variant_id)
        lead_id = _lead_id(request.GET.get("lead"))
        try:
            rendered = render_for_lead(variant=variant, lead_id=lead_id)
        except LeadNotInCampaignError as exc:
            messages.error(request, str(exc))
            lead_id, rendered = None, render_creative(variant=variant)
        context = {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "title": f"Preview of creative #{variant.pk}",
            "variant": variant,
            "rendered": rendered,
            "lead_id": lead_id,
            "lead_choices": lead_choices(campaign=variant.campaign, limit=LEAD_CHOICES_SHOWN),
            "from_email": sender_for(campaign=variant.campaign),
            "to_email": request.user.email,
            "change_url": reverse("admin:creative_creativevariant_change", args=[variant.pk]),
            **review_context(request, variant),
        }
        return TemplateResponse(request, "admin/creative/creativevariant/preview.html", context)

    return view


def submit_view(model_admin) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, variant_id: int) -> HttpResponse:
        variant = _variant_or_404(model_admin, request, variant_id)
        back = reverse("admin:creative_creativevariant_change", args=[variant.pk])
        if request.method != "POST":
            return HttpResponseRedirect(back)
        with refusals_as_messages(request) as attempt:
            require_action(request.user, "creative.submit", variant.campaign)
            submitted = submit_creative_for_review(variant=variant.pk, actor=request.user)
        if attempt.ok:
            messages.success(
                request,
                f"Creative #{submitted.pk} is in review again: its checks and risk were assessed anew.",
            )
        return back_to(request, back)

    return view


def variant_test_send_view(model_admin) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, variant_id: int) -> HttpResponse:
        variant = _variant_or_404(model_admin, request, variant_id)
        lead_id = _lead_id(request.POST.get("lead"))
        back = reverse("admin:creative_creativevariant_preview", args=[variant.pk])
        if lead_id is not None:
            back += f"?lead={lead_id}"
        if request.method != "POST":
            return HttpResponseRedirect(back)
        with refusals_as_messages(request) as attempt:
            require_action(request.user, "creative.test_send", variant.campaign)
            result = send_test_email(variant=variant.pk, actor=request.user, lead_id=lead_id)
        if attempt.ok:
            note = f" Empty merge fields: {', '.join(result.missing)}." if result.missing else ""
            messages.success(
                request,
                f'Test sent to {result.to_email} from {result.from_email}: "{result.subject}". It is not '
                f"outreach: no message, cap or budget was used.{note}",
            )
        return back_to(request, back)

    return view
