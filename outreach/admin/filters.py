"""List filters the outreach admin shares: the campaign (in one query) and the A/B arms."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from campaigns.models import Campaign
from campaigns.selectors import campaigns_visible_to

from ..models import Message, StepVariant

__all__ = ["CampaignFilter", "StepVariantFilter", "StepVariantLabelFilter", "campaign_choices"]


def campaign_choices(request: HttpRequest) -> QuerySet[Campaign]:
    return campaigns_visible_to(request.user).select_related("client").order_by("name", "pk")


class _ForeignKeyFilter(admin.SimpleListFilter):
    """Filters on ``field`` by a primary key from the query string; any other value filters nothing."""

    field = ""

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(**{self.field: value}) if value and value.isdigit() else queryset


class CampaignFilter(_ForeignKeyFilter):
    """Campaigns in one query (client names joined), under the standard ``campaign__id__exact`` key."""

    title = "campaign"
    parameter_name = "campaign__id__exact"
    field = "campaign_id"

    def lookups(self, request, model_admin):
        campaigns = campaign_choices(request).only("pk", "name", "client__name")
        return [(str(c.pk), str(c)) for c in campaigns]


class StepVariantFilter(_ForeignKeyFilter):
    """The A/B arms that have messages (of the chosen campaign, when one is), in one query."""

    title = "step variant"
    parameter_name = "step_variant__id__exact"
    field = "step_variant_id"

    def lookups(self, request, model_admin):
        variants = StepVariant.objects.filter(
            pk__in=Message.objects.values("step_variant_id").distinct()
        ).select_related("step__sequence")
        campaign = request.GET.get("campaign__id__exact", "")
        if campaign.isdigit():
            variants = variants.filter(step__sequence__campaign_id=campaign)
        variants = variants.order_by("step__sequence__name", "step__sequence_id", "step__position", "label")
        return [(str(v.pk), str(v)) for v in variants]


class StepVariantLabelFilter(admin.SimpleListFilter):
    title = "A/B label"
    parameter_name = "variant_label"

    def lookups(self, request, model_admin):
        labels = StepVariant.objects.order_by("label").values_list("label", flat=True).distinct()
        return [(label, label) for label in labels]

    def queryset(self, request, queryset):
        return queryset.filter(step_variant__label=self.value()) if self.value() else queryset
