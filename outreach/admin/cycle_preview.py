"""The "Preview next cycle" page: who the campaign's next cycle would mail, with which step, when
(in the campaign's time zone) and from which mailbox, or why not. Read only
(``outreach.services.preview``), so any staff user who may see the campaign's messages may open it
(the operator role does); nothing is enrolled, rendered or sent.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from campaigns.lifecycle import activation_blockers
from campaigns.models import Campaign
from campaigns.permissions import is_allowed
from campaigns.selectors import available_transitions, campaigns_visible_to

from ..services.preview import preview_next_cycle

__all__ = ["activation_offer", "cycle_preview_page", "may_preview_cycle", "preview_url"]

TEMPLATE = "admin/outreach/sending/preview_cycle.html"


def may_preview_cycle(request: HttpRequest) -> bool:
    """Reading a preview shows who would be mailed: staff who may view messages."""
    user = request.user
    return user.is_active and user.is_staff and user.has_perm("outreach.view_message")


def preview_url(campaign: Campaign | None = None) -> str:
    url = reverse("admin:outreach_sequence_preview_cycle")
    return f"{url}?campaign={campaign.pk}" if campaign is not None else url


def activation_offer(request: HttpRequest, campaign: Campaign) -> dict:
    """ "Activate the campaign" where a sequence was just made: the form (rationale inline, one POST
    to the campaign's transition, then on to this preview), or why it cannot be activated yet."""
    if not is_allowed(request.user, "campaign.activate", campaign):
        return {}
    if "activate" in available_transitions(campaign):
        return {
            "activate_url": reverse("admin:campaigns_campaign_transition", args=[campaign.pk, "activate"]),
            "activate_next": preview_url(campaign),
            "activate_campaign": campaign,
        }
    if campaign.state == "approved":  # the step it waits for: say what is missing
        return {"activate_campaign": campaign, "activate_blockers": activation_blockers(campaign)}
    return {}


class PreviewPickForm(forms.Form):
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none())

    def __init__(self, *args, campaigns, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns


def cycle_preview_page(model_admin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    if not may_preview_cycle(request):
        raise PermissionDenied
    visible = campaigns_visible_to(request.user).select_related("client").order_by("name", "pk")
    form = PreviewPickForm(request.GET if request.GET.get("campaign") else None, campaigns=visible)
    campaign = form.cleaned_data["campaign"] if form.is_valid() else None
    preview = preview_next_cycle(campaign=campaign) if campaign is not None else None
    title = f"Preview next cycle — {campaign.name}" if campaign is not None else "Preview next cycle"
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "form": form,
        "campaign": campaign,
        "preview": preview,
        "campaign_url": reverse("admin:campaigns_campaign_change", args=[campaign.pk]) if campaign else "",
        "run_cycle_url": reverse("admin:outreach_sequence_run_cycle"),
        # The same rule as the Run cycle page (cycle_results.may_run_dry_cycle).
        "may_run_cycle": may_preview_cycle(request),
    }
    return TemplateResponse(request, TEMPLATE, context)
