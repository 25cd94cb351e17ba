"""Operator admin for strategy: brief editing, "Generate strategies", a side-by-side comparison of
a batch's variants with select / approve / reject, and the plan with its calendar (list and month).

Every button calls the same services as the API, so decisions are locked, checked and audited.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from campaigns.admin_kit.base import (
    AicmoHistoryAdmin,
    AicmoModelAdmin,
    AicmoTabularInline,
    ReadOnlyAdminMixin,
)
from campaigns.admin_kit.display import labelled_list, state_badge
from campaigns.admin_kit.fields import ChannelsField
from campaigns.admin_kit.refusals import refusals_as_messages
from campaigns.admin_links import CampaignAdminLink, register_campaign_admin_links
from campaigns.labels import human_label
from campaigns.models import Campaign
from campaigns.permissions import require_action

from . import admin_plan  # noqa: F401  (registers the plan and calendar pages)
from .adapters import available_generators
from .models import (
    DEFAULT_VARIANTS,
    MAX_VARIANTS,
    MIN_VARIANTS,
    Brief,
    CampaignPlan,
    StrategyBatch,
    StrategyDecision,
    StrategyVariant,
    VariantState,
)
from .selectors import approved_variant_for, brief_for_campaign, decisions_for_variant
from .services import (
    BRIEF_FIELDS,
    approve_strategy_variant,
    generate_strategies,
    normalize_brief_fields,
    reject_strategy_variant,
    save_brief,
    select_strategy_variant,
)


def compare_url(batch_id: int) -> str:
    return reverse("admin:strategy_strategybatch_compare", args=[batch_id])


def next_step_links(request: HttpRequest, campaign: Campaign) -> dict[str, str]:
    """After approval: "Generate creative" and "Import leads" (which goes on to the creative form),
    by URL name (``creative`` and ``leads`` are not imported here)."""
    user, links = request.user, {}
    if campaign.is_final:
        return links
    if user.has_perm("creative.add_creativebrief"):
        links["generate_creative_url"] = f"{reverse('admin:creative_generate')}?campaign={campaign.pk}"
    if user.has_perm("leads.add_leadimport"):
        after = links.get("generate_creative_url") or reverse(
            "admin:campaigns_campaign_change", args=[campaign.pk]
        )
        query = urlencode({"campaign": campaign.pk, "next": after})
        links["import_leads_url"] = f"{reverse('admin:leads_leadimport_upload')}?{query}"
    return links


def _percent(share: float) -> str:
    return f"{share * 100:.0f} %"


def _kpi(value: float) -> str:
    return f"{value * 100:.1f} %" if value < 1 else f"{value:g}"


def _kpi_line(key: str, value: float) -> str:
    return f"{human_label(key)}: {_kpi(value)}"


def campaign_strategy_links(request: HttpRequest, campaign: Campaign) -> list[CampaignAdminLink]:
    """The strategy steps on the campaign page: brief, generate, compare the latest batch, plan."""
    user = request.user
    links: list[CampaignAdminLink] = []
    brief = brief_for_campaign(campaign)
    latest = campaign.strategy_batches.order_by("-number").first()
    if latest is not None and user.has_perm("strategy.view_strategybatch"):
        approved = approved_variant_for(campaign)
        links.append(
            CampaignAdminLink(
                key="strategy-compare",
                label=f"Compare strategies (batch {latest.number})",
                url=compare_url(latest.pk),
                note=f"approved: {approved.title}" if approved else "no strategy approved yet",
            )
        )
    if brief is None:
        if user.has_perm("strategy.add_brief") and not campaign.is_final:
            url = f"{reverse('admin:strategy_brief_add')}?campaign={campaign.pk}"
            links.append(CampaignAdminLink(key="strategy-brief", label="Write the strategy brief", url=url))
    else:
        if user.has_perm("strategy.change_brief") and not campaign.is_final:
            links.append(
                CampaignAdminLink(
                    key="strategy-generate",
                    label="Generate strategies",
                    url=reverse("admin:strategy_brief_generate", args=[brief.pk]),
                )
            )
        if user.has_perm("strategy.view_brief"):
            links.append(
                CampaignAdminLink(
                    key="strategy-brief",
                    label="Brief",
                    url=reverse("admin:strategy_brief_change", args=[brief.pk]),
                )
            )
    plan_id = CampaignPlan.objects.filter(campaign=campaign).values_list("pk", flat=True).first()
    if plan_id is not None and user.has_perm("strategy.view_campaignplan"):
        links.append(
            CampaignAdminLink(
                key="strategy-plan",
                label="Plan",
                url=reverse("admin:strategy_campaignplan_change", args=[plan_id]),
            )
        )
        links.append(
            CampaignAdminLink(
                key="strategy-calendar",
                label="Content calendar",
                url=reverse("admin:strategy_campaignplan_month", args=[plan_id]),
            )
        )
    return links


register_campaign_admin_links("Strategy", campaign_strategy_links, order=10)


# --- brief -----------------------------------------------------------------------------------


class BriefAdminForm(forms.ModelForm):
    channels = ChannelsField(help_text="The channels this brief plans for. Pick at least one.")

    class Meta:
        model = Brief
        fields = ["campaign", *BRIEF_FIELDS]

    def clean(self):
        cleaned = super().clean()
        # The service's normalisation is the one rule set; its errors land on the right fields.
        try:
            normalized = normalize_brief_fields({k: cleaned[k] for k in BRIEF_FIELDS if k in cleaned})
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
            return cleaned
        cleaned.update(normalized)
        return cleaned


class GenerateForm(forms.Form):
    variants = forms.IntegerField(
        min_value=MIN_VARIANTS,
        max_value=MAX_VARIANTS,
        initial=DEFAULT_VARIANTS,
        help_text=f"{MIN_VARIANTS} to {MAX_VARIANTS} variants (conservative, aggressive, creative, …).",
    )
    generator = forms.ChoiceField(choices=[], help_text="The LLM is offered only when a provider key is set.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["generator"].choices = [(name, name) for name in available_generators()]


@admin.register(Brief)
class BriefAdmin(AicmoHistoryAdmin):
    add_action = "strategy.edit_brief"  # as save_brief asks: one rule for admin, API and service
    change_action = "strategy.edit_brief"
    form = BriefAdminForm
    change_form_template = "admin/strategy/brief/change_form.html"
    list_display = [
        "campaign",
        "short_objective",
        "channel_words",
        "tone",
        "budget",
        "currency",
        "updated_at",
        "links",
    ]
    list_filter = ["tone", "campaign__type", "campaign__client"]
    search_fields = ["campaign__name", "objective", "audience", "offer"]
    list_select_related = ["campaign"]
    actions = ["generate_selected"]

    def get_readonly_fields(self, request, obj=None):
        return ["campaign"] if obj is not None else []

    def get_changeform_initial_data(self, request):
        """A new brief starts from what its campaign already says (the wizard's second step)."""
        initial = super().get_changeform_initial_data(request)
        campaign = Campaign.objects.filter(pk=str(initial.get("campaign") or "0")).first()
        if campaign is not None:
            audience = " — ".join(part for part in (campaign.icp, campaign.target_niche) if part)
            prefill = {
                "objective": campaign.objective,
                "audience": audience,
                "channels": list(campaign.channels or []),
                "budget": campaign.budget_cap,
                "currency": campaign.currency,
            }
            initial.update({k: v for k, v in prefill.items() if v not in (None, "", [])})
        return initial

    def _after_save(self, request: HttpRequest, obj: Brief, default):
        """ "Save and generate strategies": one POST saves the brief and generates, then the
        comparison; "Save": back to the campaign (the wizard never ends on the brief list)."""
        if "_generate" in request.POST:
            form = GenerateForm(
                {
                    "variants": request.POST.get("generate_variants") or DEFAULT_VARIANTS,
                    "generator": (available_generators() or [""])[0],
                }
            )
            if form.is_valid():
                batches = self._generate(request, [obj], form)
                if batches:
                    return HttpResponseRedirect(compare_url(batches[0].pk))
            else:
                messages.error(request, f"Strategies not generated: {form.errors.as_text()}")
            return HttpResponseRedirect(reverse("admin:strategy_brief_change", args=[obj.pk]))
        if "_save" in request.POST:
            return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[obj.campaign_id]))
        return default

    def response_add(self, request, obj, post_url_continue=None):
        return self._after_save(request, obj, super().response_add(request, obj, post_url_continue))

    def response_change(self, request, obj):
        return self._after_save(request, obj, super().response_change(request, obj))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "campaign":
            kwargs["queryset"] = Campaign.objects.filter(strategy_brief__isnull=True).exclude(
                state__in=["completed", "cancelled"]
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Objective")
    def short_objective(self, obj: Brief) -> str:
        return obj.objective[:80] + ("…" if len(obj.objective) > 80 else "")

    @admin.display(description="Channels")
    def channel_words(self, obj: Brief) -> str:
        return labelled_list(obj.channels)

    @admin.display(description="")
    def links(self, obj: Brief) -> str:
        latest = obj.campaign.strategy_batches.order_by("-number").first()
        generate = reverse("admin:strategy_brief_generate", args=[obj.pk])
        if latest is None:
            return format_html('<a href="{}">Generate strategies</a>', generate)
        return format_html(
            '<a href="{}">Generate strategies</a> · <a href="{}">Compare batch {}</a>',
            generate,
            compare_url(latest.pk),
            latest.number,
        )

    def save_model(self, request: HttpRequest, obj: Brief, form, change: bool) -> None:
        data = {k: form.cleaned_data[k] for k in BRIEF_FIELDS if k in form.cleaned_data}
        campaign = obj.campaign if change else form.cleaned_data["campaign"]
        saved = save_brief(campaign=campaign, actor=request.user, **data)  # a refusal shows on the form
        obj.pk = saved.pk

    def get_urls(self):
        return [
            path(
                "<int:object_id>/generate/",
                self.admin_site.admin_view(self.generate_view),
                name="strategy_brief_generate",
            ),
            *super().get_urls(),
        ]

    def _generate(self, request: HttpRequest, briefs, form: GenerateForm) -> list[StrategyBatch]:
        batches = []
        for brief in briefs:
            with refusals_as_messages(request, f"{brief.campaign.name}: ") as attempt:
                batch = generate_strategies(
                    campaign=brief.campaign,
                    actor=request.user,
                    variants=form.cleaned_data["variants"],
                    generator=form.cleaned_data["generator"],
                )
            if not attempt.ok:
                continue
            batches.append(batch)
            messages.success(
                request,
                f"{brief.campaign.name}: batch {batch.number} with {batch.requested_variants} "
                "variants generated.",
            )
        return batches

    def generate_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        brief = get_object_or_404(Brief.objects.select_related("campaign"), pk=object_id)
        if not self.has_change_permission(request, brief):
            raise PermissionDenied
        form = GenerateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            batches = self._generate(request, [brief], form)
            if batches:
                return HttpResponseRedirect(compare_url(batches[0].pk))
            return HttpResponseRedirect(reverse("admin:strategy_brief_change", args=[brief.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Generate strategies: {brief.campaign.name}",
            "briefs": [brief],
            "form": form,
            "action": None,
        }
        return TemplateResponse(request, "admin/strategy/brief/generate.html", context)

    @admin.action(description="Generate strategies for the selected briefs")
    def generate_selected(self, request: HttpRequest, queryset):
        if "apply" in request.POST:
            form = GenerateForm(request.POST)
            if form.is_valid():
                batches = self._generate(request, list(queryset.select_related("campaign")), form)
                if len(batches) == 1:
                    return HttpResponseRedirect(compare_url(batches[0].pk))
                return None
        else:
            form = GenerateForm()
        return TemplateResponse(
            request,
            "admin/strategy/brief/generate.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": f"Generate strategies for {queryset.count()} brief(s)",
                "briefs": queryset.select_related("campaign"),
                "form": form,
                "action": request.POST.get("action"),
            },
        )


# --- batches and the comparison page ----------------------------------------------------------


def comparison_rows(variants: list[StrategyVariant]) -> list[tuple[str, list[str]]]:
    """Rows of the side-by-side table: one label, one HTML cell per variant."""

    def ul(items) -> str:
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((i,) for i in items)))

    rows: list[tuple[str, list[str]]] = [
        ("Angle", [format_html("<strong>{}</strong>", v.angle) for v in variants]),
        ("State", [state_badge(v) for v in variants]),
        ("Positioning", [format_html("{}", v.positioning) for v in variants]),
        ("Messaging pillars", [ul(v.pillars) for v in variants]),
        (
            "Channel mix",
            [
                ul(
                    f"{human_label(ch)}: {_percent(share)}"
                    for ch, share in sorted(v.channel_mix.items(), key=lambda i: -i[1])
                )
                for v in variants
            ],
        ),
        (
            "Cadence",
            [
                ul(
                    f"{human_label(ch)}: {c['per_week']}/week, {c['content_type']}"
                    for ch, c in v.cadence.items()
                )
                for v in variants
            ],
        ),
        (
            "Phases",
            [
                ul(f"{p['name']} ({p['duration_days']} d): {', '.join(p['tactics'])}" for p in v.phases)
                for v in variants
            ],
        ),
        ("KPI targets", [ul(_kpi_line(k, val) for k, val in v.kpi_targets.items()) for v in variants]),
        (
            "Budget split",
            [
                ul(
                    f"{line['item']}: {_percent(line['share'])}"
                    + (f" ({line['amount']:,.2f})" if line.get("amount") is not None else "")
                    for line in v.budget_split
                )
                for v in variants
            ],
        ),
        (
            "Risks",
            [ul(f"[{r['severity']}] {r['risk']} → {r['mitigation']}" for r in v.risks) for v in variants],
        ),
        (
            "Decision",
            [
                ul(
                    f"{d.created_at:%Y-%m-%d %H:%M} {d.actor_label} {d.action}"
                    + (f": {d.rationale}" if d.rationale else "")
                    for d in decisions_for_variant(v)
                )
                for v in variants
            ],
        ),
    ]
    return rows


@admin.register(StrategyBatch)
class StrategyBatchAdmin(ReadOnlyAdminMixin, AicmoModelAdmin):
    list_display = [
        "__str__",
        "campaign",
        "number",
        "generator",
        "requested_variants",
        "generation_cost",
        "created_by",
        "created_at",
        "compare_link",
    ]
    list_filter = ["generator", "campaign__client"]
    search_fields = ["campaign__name"]
    list_select_related = ["campaign", "created_by"]
    readonly_fields = [f.name for f in StrategyBatch._meta.fields]

    @admin.display(description="")
    def compare_link(self, obj: StrategyBatch) -> str:
        return format_html('<a href="{}">Compare variants</a>', compare_url(obj.pk))

    def get_urls(self):
        return [
            path(
                "<int:object_id>/compare/",
                self.admin_site.admin_view(self.compare_view),
                name="strategy_strategybatch_compare",
            ),
            path(
                "<int:object_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="strategy_strategybatch_decide",
            ),
            *super().get_urls(),
        ]

    def compare_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        batch = get_object_or_404(StrategyBatch.objects.select_related("campaign"), pk=object_id)
        if not self.has_view_permission(request, batch):
            raise PermissionDenied
        variants = list(batch.variants.select_related("decided_by").order_by("position"))
        can_decide = request.user.has_perm("strategy.change_strategyvariant") and not batch.campaign.is_final
        approved = approved_variant_for(batch.campaign)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Compare strategies: {batch.campaign.name}, batch {batch.number}",
            "batch": batch,
            "campaign": batch.campaign,
            "variants": variants,
            "rows": comparison_rows(variants),
            "can_decide": can_decide,
            # Once one strategy is approved nothing else can be selected: no dead-end Select buttons.
            "approved": approved,
            "other_batches": batch.campaign.strategy_batches.exclude(pk=batch.pk).order_by("-number"),
            "plan": CampaignPlan.objects.filter(campaign=batch.campaign).first(),
            **next_step_links(request, batch.campaign),
        }
        return TemplateResponse(request, "admin/strategy/strategybatch/compare.html", context)

    def decide_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        batch = get_object_or_404(StrategyBatch.objects.select_related("campaign"), pk=object_id)
        if request.method != "POST":
            raise PermissionDenied
        require_action(request.user, "strategy.decide", batch.campaign)
        step = request.POST.get("step")
        services = {
            "select": select_strategy_variant,
            "approve": approve_strategy_variant,
            "reject": reject_strategy_variant,
        }
        service = services.get(step)
        variant = batch.variants.filter(pk=request.POST.get("variant") or 0).first()
        if service is None or variant is None:
            messages.error(request, "Unknown step or a variant that is not part of this batch.")
            return HttpResponseRedirect(compare_url(batch.pk))
        rationale = request.POST.get("rationale", "")
        with refusals_as_messages(request) as attempt:
            if step == "approve" and variant.state == VariantState.PROPOSED:
                # One submit: "approve" on a proposed variant selects it first (both audited).
                select_strategy_variant(
                    variant=variant, actor=request.user, rationale=rationale, campaign=batch.campaign_id
                )
            service(variant=variant, actor=request.user, rationale=rationale, campaign=batch.campaign_id)
        if attempt.ok:
            variant.refresh_from_db()
            done = {"select": "selected", "approve": "approved", "reject": "rejected"}[step]
            note = " The plan and content calendar were built." if step == "approve" else ""
            messages.success(request, f"Variant “{variant.title}” {done}.{note}")
        return HttpResponseRedirect(compare_url(batch.pk))


class StrategyDecisionInline(ReadOnlyAdminMixin, AicmoTabularInline):
    model = StrategyDecision
    fields = ["created_at", "actor_label", "action", "rationale"]
    readonly_fields = fields
    extra = 0


@admin.register(StrategyVariant)
class StrategyVariantAdmin(ReadOnlyAdminMixin, AicmoModelAdmin):
    """Variants are never edited; decisions are the buttons on the comparison page."""

    list_display = ["__str__", "campaign", "batch", "angle", "state_badge", "decided_by", "decided_at"]
    list_filter = ["state", "angle", "campaign__client"]
    search_fields = ["title", "positioning", "campaign__name"]
    list_select_related = ["campaign", "batch", "decided_by"]
    readonly_fields = [f.name for f in StrategyVariant._meta.fields]
    inlines = [StrategyDecisionInline]

    @admin.display(description="State", ordering="state")
    def state_badge(self, obj: StrategyVariant) -> str:
        return format_html('{} <a href="{}">compare</a>', state_badge(obj), compare_url(obj.batch_id))
