"""Operator admin for creative: generate, compare a brief's variants side by side with their check
findings, decide (approve / request changes / reject), edit into new versions and submit them for
review again, lineage, a preview for a lead the reviewer picks, and "send a test to me"."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django_fsm import can_proceed

from campaigns.admin_kit.base import NOBODY, AicmoHistoryAdmin, AicmoModelAdmin, AicmoTabularInline
from campaigns.admin_kit.display import state_column
from campaigns.admin_kit.refusals import refusals_as_messages
from campaigns.admin_links import CampaignAdminLink, register_campaign_admin_links
from campaigns.models import Campaign, CampaignState
from campaigns.permissions import require_action

from .admin_review import (
    LEAD_CHOICES_SHOWN,
    back_to,
    differences_html,
    review_context,
    submit_view,
    variant_preview_view,
    variant_test_send_view,
)
from .models import CreativeBrief, CreativeState, CreativeVariant, Platform
from .preview import lead_choices
from .selectors import creative_family
from .services import (
    EDITABLE_CONTENT,
    approve_creative,
    edit_creative,
    generate_creatives,
    reject_creative,
    render_creative,
    request_creative_changes,
    submit_creative_for_review,
)

# decision -> (the action it needs, the service that makes it)
DECISION_SERVICES = {
    "submit_for_review": ("creative.submit", submit_creative_for_review),
    "approve": ("creative.decide", approve_creative),
    "request_changes": ("creative.decide", request_creative_changes),
    "reject": ("creative.decide", reject_creative),
}
SEVERITY_COLOURS = {"error": "#ba2121", "warning": "#b8860b", "info": "#417690"}


def findings_html(variant: CreativeVariant) -> str:
    passing = mark_safe('<span style="color:#198754">All checks pass</span>')  # constant, no user data
    if not variant.check_findings:
        return passing
    # Notes only (the spam score of a passing email): it passes, and the notes are shown under it.
    notes_only = all(f["severity"] == "info" for f in variant.check_findings)
    return format_html(
        "{}<ul style='margin:0;padding-left:1em'>{}</ul>",
        passing if notes_only else "",
        format_html_join(
            "",
            '<li style="color:{}"><b>{}</b>: {}</li>',
            (
                (SEVERITY_COLOURS.get(f["severity"], "#333"), f["severity"], f["message"])
                for f in variant.check_findings
            ),
        ),
    )


def campaign_creative_links(request: HttpRequest, campaign: Campaign) -> list[CampaignAdminLink]:
    """The creative steps on the campaign page: generate, then review (compare and decide)."""
    user = request.user
    links: list[CampaignAdminLink] = []
    if user.has_perm("creative.add_creativebrief") and not campaign.is_final:
        links.append(
            CampaignAdminLink(
                key="creative-generate",
                label="Generate creative",
                url=f"{reverse('admin:creative_generate')}?campaign={campaign.pk}",
            )
        )
    if user.has_perm("creative.view_creativebrief"):
        counts = {
            row["state"]: row["n"]
            for row in CreativeVariant.objects.filter(campaign=campaign)
            .values("state")
            .annotate(n=Count("id"))
            .order_by()
        }
        if counts:
            note = ", ".join(
                f"{counts[state]} {label.lower()}"
                for state, label in CreativeState.choices
                if counts.get(state)
            )
            # The comparison of the latest brief, where decisions are made (the list when a
            # generation made several briefs, one per platform).
            briefs = list(CreativeBrief.objects.filter(campaign=campaign).order_by("-pk")[:2])
            latest_batch = [b for b in briefs if b.created_at == briefs[0].created_at] if briefs else []
            url = (
                reverse("admin:creative_creativebrief_compare", args=[briefs[0].pk])
                if len(latest_batch) == 1
                else f"{reverse('admin:creative_creativebrief_changelist')}?campaign__id__exact={campaign.pk}"
            )
            links.append(
                CampaignAdminLink(key="creative-review", label="Review creative", url=url, note=note)
            )
    return links


register_campaign_admin_links("Creative", campaign_creative_links, order=20)


class GenerateForm(forms.Form):
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.exclude(state__in=[CampaignState.COMPLETED, CampaignState.CANCELLED]),
        help_text="The campaign needs an approved strategy.",
    )
    variants = forms.IntegerField(min_value=1, max_value=5, initial=3)
    platforms = forms.MultipleChoiceField(
        choices=Platform.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave empty for every enabled channel.",
    )


class CreativeVariantInline(AicmoTabularInline):
    add_action = NOBODY  # variants come from generation; each is edited on its own page
    model = CreativeVariant
    fields = ["id", "angle", "generation", "state_badge", "subject"]
    readonly_fields = fields
    state_badge = state_column()
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(CreativeBrief)
class CreativeBriefAdmin(AicmoModelAdmin):
    add_action = NOBODY  # briefs come from "Generate creative"
    list_display = ["id", "campaign", "platform", "pillar", "calendar_item", "created_at", "compare_link"]
    list_filter = ["platform", "campaign"]
    list_select_related = ["campaign", "calendar_item"]
    readonly_fields = [f.name for f in CreativeBrief._meta.fields]
    inlines = [CreativeVariantInline]

    @admin.display(description="Compare")
    def compare_link(self, obj: CreativeBrief) -> str:
        url = reverse("admin:creative_creativebrief_compare", args=[obj.pk])
        return format_html('<a class="button" href="{}">Compare variants</a>', url)

    def get_urls(self):
        return [
            path(
                "<int:brief_id>/compare/",
                self.admin_site.admin_view(self.compare_view),
                name="creative_creativebrief_compare",
            ),
            *super().get_urls(),
        ]

    def compare_view(self, request: HttpRequest, brief_id: int) -> HttpResponse:
        brief = get_object_or_404(CreativeBrief.objects.select_related("campaign"), pk=brief_id)
        if not self.has_view_permission(request, brief):
            raise PermissionDenied
        if request.method == "POST":
            self._decide_from_compare(request, brief)
            return back_to(request, request.path)  # the variant's page posts here with its own ``next``
        variants = list(brief.variants.order_by("root_id", "generation", "id"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Compare variants: {brief}",
            "brief": brief,
            "columns": [
                {
                    "variant": v,
                    "findings": findings_html(v),
                    "preview": render_creative(variant=v),
                    "change_url": reverse("admin:creative_creativevariant_change", args=[v.pk]),
                    **review_context(request, v),
                }
                for v in variants
            ],
        }
        return TemplateResponse(request, "admin/creative/compare.html", context)

    def _decide_from_compare(self, request: HttpRequest, brief: CreativeBrief) -> None:
        """One decision from the comparison page, shown as a message whatever happens (a refusal of
        the role included): the reviewer stays on the page with every variant in front of them."""
        decision = request.POST.get("decision", "")
        variant_id = request.POST.get("variant", "")
        if decision not in DECISION_SERVICES or not variant_id.isdigit():
            messages.error(request, "Choose a variant and a decision.")
            return
        action, service = DECISION_SERVICES[decision]
        kwargs = {}
        if decision != "submit_for_review":
            kwargs["rationale"] = request.POST.get("rationale", "")
        if decision == "approve":
            kwargs["override_rationale"] = request.POST.get("override_rationale", "")
            kwargs["acknowledge_html_difference"] = bool(request.POST.get("acknowledge_html_difference"))
        with refusals_as_messages(request) as attempt:
            require_action(request.user, action, brief.campaign)
            variant = service(variant=int(variant_id), actor=request.user, campaign=brief.campaign, **kwargs)
        if attempt.ok:
            messages.success(request, f"Creative #{variant.pk} is now {variant.get_state_display().lower()}.")


class CreativeVariantForm(forms.ModelForm):
    hashtags = forms.CharField(required=False, help_text="Space or comma separated.")

    class Meta:
        model = CreativeVariant
        fields = list(EDITABLE_CONTENT)
        help_texts = {
            "body_html": "Emails: made from Body whenever you change Body and leave this as it is. "
            "Change it yourself only for formatting; where it then says something else than Body, "
            "reviewers see the differing lines and must acknowledge them to approve.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["hashtags"] = " ".join(self.instance.hashtags or [])


@admin.register(CreativeVariant)
class CreativeVariantAdmin(AicmoHistoryAdmin):
    add_action = NOBODY  # variants come from generation
    change_action = "creative.edit"  # an edit of a decided version is a new draft version
    delete_action = NOBODY  # the lineage and the decisions stay
    form = CreativeVariantForm
    change_list_template = "admin/creative/creativevariant/change_list.html"
    change_form_template = "admin/creative/creativevariant/change_form.html"
    list_display = [
        "id",
        "campaign",
        "platform",
        "angle",
        "generation",
        "state_badge",
        "short_subject",
        "created_at",
    ]
    list_filter = ["state", "platform", "campaign"]
    search_fields = ["subject", "body"]
    list_select_related = ["campaign"]
    readonly_fields = [
        "campaign",
        "brief",
        "platform",
        "angle",
        "state",
        "generation",
        "variant_of",
        "root",
        "findings",
        "text_and_html",
        "lineage",
        "preview",
        "override_rationale",
        "decided_by",
        "decided_at",
        "decision_rationale",
        "created_at",
    ]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "campaign",
                    "brief",
                    "platform",
                    "angle",
                    "state",
                    "generation",
                    "variant_of",
                    "root",
                )
            },
        ),
        (
            "Content",
            {
                "fields": EDITABLE_CONTENT,
                "description": "Saving an approved, in-review or rejected version creates a new draft "
                "version and leaves this one unchanged.",
            },
        ),
        ("Checks", {"fields": ("findings", "text_and_html", "override_rationale")}),
        ("Decision", {"fields": ("decided_by", "decided_at", "decision_rationale")}),
        ("Lineage and preview", {"fields": ("lineage", "preview", "created_at")}),
    )

    state_badge = state_column()

    @admin.display(description="Subject / text")
    def short_subject(self, obj: CreativeVariant) -> str:
        return (obj.subject or obj.body)[:70]

    @admin.display(description="Check findings")
    def findings(self, obj: CreativeVariant) -> str:
        return findings_html(obj)

    @admin.display(description="Text and HTML")
    def text_and_html(self, obj: CreativeVariant) -> str:
        return differences_html(obj)

    @admin.display(description="Lineage")
    def lineage(self, obj: CreativeVariant) -> str:
        rows = [
            format_html(
                '<li style="margin-left:{}em">{}<a href="{}">#{} v{}</a> — {}</li>',
                depth * 1.5,
                "→ " if depth else "",
                reverse("admin:creative_creativevariant_change", args=[v.pk]),
                v.pk,
                v.generation,
                v.get_state_display(),
            )
            for depth, v in creative_family(obj).walk()
        ]
        return format_html(
            "<ul style='list-style:none;padding:0'>{}</ul>", format_html_join("", "{}", ((r,) for r in rows))
        )

    @admin.display(description="Preview (sample lead)")
    def preview(self, obj: CreativeVariant) -> str:
        rendered = render_creative(variant=obj)
        return format_html(
            '<div style="border:1px solid #ccc;padding:8px;max-width:640px"><b>{}</b>'
            '<pre style="white-space:pre-wrap">{}</pre></div>'
            '<p><a class="button" href="{}">Preview for a lead of the campaign{}</a></p>',
            rendered.subject,
            rendered.body,
            reverse("admin:creative_creativevariant_preview", args=[obj.pk]),
            " / send a test to me" if obj.platform == Platform.EMAIL else "",
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        variant = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if variant is not None:
            extra.update(review_context(request, variant))
            if extra["can_test_send"]:  # "send a test to me", rendered for a lead picked here
                extra["lead_choices"] = lead_choices(campaign=variant.campaign, limit=LEAD_CHOICES_SHOWN)
                extra["to_email"] = request.user.email
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def save_model(self, request, obj: CreativeVariant, form, change: bool) -> None:
        changes = {k: form.cleaned_data[k] for k in form.changed_data if k in EDITABLE_CONTENT}
        if not changes:
            return
        saved = edit_creative(variant=obj.pk, actor=request.user, **changes)  # refusals: on the form
        if saved.pk != obj.pk:
            messages.info(
                request,
                f"Version #{obj.pk} is unchanged; your edit is new draft version #{saved.pk}. "
                "Submit it for review from its page when it is ready.",
            )
        elif can_proceed(saved.submit_for_review):
            messages.info(
                request,
                f"#{saved.pk} is a {saved.get_state_display().lower()}: submit it for "
                "review when it is ready.",
            )
        obj.pk = saved.pk

    def response_change(self, request, obj):
        # Saving made (or changed) the version in ``obj.pk``: open that one, with its review
        # buttons, not the unchanged version the form was opened on, nor the list.
        if "_addanother" not in request.POST:
            return HttpResponseRedirect(reverse("admin:creative_creativevariant_change", args=[obj.pk]))
        return super().response_change(request, obj)

    def get_urls(self):
        return [
            path("generate/", self.admin_site.admin_view(self.generate_view), name="creative_generate"),
            path(
                "<int:variant_id>/preview/",
                self.admin_site.admin_view(variant_preview_view(self)),
                name="creative_creativevariant_preview",
            ),
            path(
                "<int:variant_id>/submit/",
                self.admin_site.admin_view(submit_view(self)),
                name="creative_creativevariant_submit",
            ),
            path(
                "<int:variant_id>/test-send/",
                self.admin_site.admin_view(variant_test_send_view(self)),
                name="creative_creativevariant_test_send",
            ),
            *super().get_urls(),
        ]

    def generate_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("creative.add_creativebrief"):
            raise PermissionDenied
        form = GenerateForm(request.POST or None, initial={"campaign": request.GET.get("campaign")})
        if request.method == "POST" and form.is_valid():
            with refusals_as_messages(request) as attempt:
                created = generate_creatives(
                    campaign=form.cleaned_data["campaign"],
                    actor=request.user,
                    variants=form.cleaned_data["variants"],
                    platforms=form.cleaned_data["platforms"] or None,
                )
            if attempt.ok:
                brief_ids = {v.brief_id for v in created}
                messages.success(
                    request,
                    f"Generated {len(created)} variant(s) in {len(brief_ids)} brief(s), checked and in "
                    "review. Compare them and decide.",
                )
                if len(brief_ids) == 1:  # straight to the comparison, where the decision is made
                    return HttpResponseRedirect(
                        reverse("admin:creative_creativebrief_compare", args=[brief_ids.pop()])
                    )
                campaign = form.cleaned_data["campaign"]
                return HttpResponseRedirect(
                    f"{reverse('admin:creative_creativebrief_changelist')}?campaign__id__exact={campaign.pk}"
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Generate creative",
            "form": form,
        }
        return TemplateResponse(request, "admin/creative/generate.html", context)
