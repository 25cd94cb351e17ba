"""Client-facing API for strategy: briefs, generation, variants and decisions, plan and calendar.

Everything is scoped through `campaigns_visible_to`: another client's campaign or variant is a
404. Client users may select / approve / reject only where the campaign allows client approval
(403 otherwise); generation and brief edits are agency work (staff). Illegal transitions are 409.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.api import BadRequestSerializer
from campaigns.models import CHANNELS, Campaign
from campaigns.selectors import campaigns_visible_to

from .adapters import available_generators
from .models import (
    DEFAULT_VARIANTS,
    MAX_VARIANTS,
    MIN_VARIANTS,
    Brief,
    CalendarItem,
    CampaignPlan,
    PlanPhase,
    StrategyBatch,
    StrategyDecision,
    StrategyVariant,
    Tone,
    VariantState,
)
from .selectors import (
    batches_for_campaign,
    brief_for_campaign,
    calendar_items_for,
    plan_for,
    variants_visible_to,
)
from .services import (
    StrategyError,
    approve_strategy_variant,
    generate_strategies,
    reject_strategy_variant,
    save_brief,
    select_strategy_variant,
)

# --- serializers -----------------------------------------------------------------------------


class StrategyErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    # Domain errors name a machine-readable code; DRF's own errors (403, 404, 405) carry detail only.
    code = serializers.CharField(required=False, help_text="Machine-readable reason, on domain errors.")
    state = serializers.CharField(required=False)


class StrategyCadenceSerializer(serializers.Serializer):
    per_week = serializers.IntegerField()
    content_type = serializers.CharField()


class StrategyPhaseSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    share = serializers.FloatField(help_text="Fraction of the campaign's duration.")
    duration_days = serializers.IntegerField()
    tactics = serializers.ListField(child=serializers.CharField())


class StrategyBudgetLineSerializer(serializers.Serializer):
    item = serializers.CharField()
    share = serializers.FloatField()
    amount = serializers.FloatField(
        allow_null=True, help_text="In the brief's currency; null without a budget."
    )


class StrategyRiskSerializer(serializers.Serializer):
    risk = serializers.CharField()
    mitigation = serializers.CharField()
    severity = serializers.ChoiceField(choices=["low", "medium", "high"])


class StrategyDecisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = StrategyDecision
        fields = ["action", "actor_label", "rationale", "created_at"]


class StrategyVariantSerializer(serializers.ModelSerializer):
    batch_number = serializers.IntegerField(source="batch.number", read_only=True)
    pillars = serializers.ListField(child=serializers.CharField(), read_only=True)
    channel_mix = serializers.DictField(child=serializers.FloatField(), read_only=True)
    cadence = serializers.DictField(child=StrategyCadenceSerializer(), read_only=True)
    phases = StrategyPhaseSerializer(many=True, read_only=True)
    kpi_targets = serializers.DictField(child=serializers.FloatField(), read_only=True)
    budget_split = StrategyBudgetLineSerializer(many=True, read_only=True)
    risks = StrategyRiskSerializer(many=True, read_only=True)
    decided_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Null until decided."
    )
    decisions = StrategyDecisionSerializer(many=True, read_only=True)

    class Meta:
        model = StrategyVariant
        fields = [
            "id",
            "campaign",
            "batch",
            "batch_number",
            "position",
            "angle",
            "title",
            "positioning",
            "pillars",
            "channel_mix",
            "cadence",
            "phases",
            "kpi_targets",
            "budget_split",
            "risks",
            "state",
            "decided_by",
            "decided_at",
            "decision_rationale",
            "decisions",
            "created_at",
        ]
        read_only_fields = fields


class StrategyBatchSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Null for system-made batches."
    )
    variants = StrategyVariantSerializer(many=True, read_only=True)

    class Meta:
        model = StrategyBatch
        fields = [
            "id",
            "campaign",
            "number",
            "generator",
            "model_name",
            "requested_variants",
            "duration_days",
            "prompt_tokens",
            "completion_tokens",
            "generation_cost",
            "cost_currency",
            "brief_snapshot",
            "created_by",
            "created_at",
            "variants",
        ]
        read_only_fields = fields


class StrategyGenerateRequestSerializer(serializers.Serializer):
    variants = serializers.IntegerField(
        min_value=MIN_VARIANTS,
        max_value=MAX_VARIANTS,
        default=DEFAULT_VARIANTS,
        help_text=f"How many variants ({MIN_VARIANTS}-{MAX_VARIANTS}).",
    )
    generator = serializers.CharField(
        required=False,
        help_text="'template' (offline, the default) or 'llm' when an LLM provider key is configured.",
    )

    def validate_generator(self, value: str) -> str:
        if value not in available_generators():
            raise serializers.ValidationError(
                f"Unknown or unavailable generator {value!r}; available: {', '.join(available_generators())}."
            )
        return value


class StrategyDecisionRequestSerializer(serializers.Serializer):
    rationale = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Why; kept in the campaign's timeline."
    )
    campaign = serializers.IntegerField(
        required=False, help_text="Optional guard: refuse unless the variant belongs to this campaign."
    )


class StrategyRejectRequestSerializer(StrategyDecisionRequestSerializer):
    rationale = serializers.CharField(max_length=2000, help_text="Why the variant is rejected (required).")


class StrategyPlanPhaseSerializer(serializers.ModelSerializer):
    tactics = serializers.ListField(child=serializers.CharField(), read_only=True)
    metrics = serializers.DictField(child=serializers.FloatField(), read_only=True)

    class Meta:
        model = PlanPhase
        fields = ["position", "key", "name", "start_date", "end_date", "tactics", "metrics"]
        read_only_fields = fields


class StrategyPlanSerializer(serializers.ModelSerializer):
    phases = StrategyPlanPhaseSerializer(many=True, read_only=True)
    kpi_targets = serializers.DictField(child=serializers.FloatField(), read_only=True)
    duration_days = serializers.IntegerField(read_only=True)
    calendar_items = serializers.SerializerMethodField()

    class Meta:
        model = CampaignPlan
        fields = [
            "id",
            "campaign",
            "variant",
            "start_date",
            "end_date",
            "duration_days",
            "timezone",
            "kpi_targets",
            "phases",
            "calendar_items",
            "updated_at",
        ]
        read_only_fields = fields

    def get_calendar_items(self, obj: CampaignPlan) -> int:
        return obj.calendar_items.count()


class StrategyCalendarItemSerializer(serializers.ModelSerializer):
    local_time = serializers.SerializerMethodField(help_text="scheduled_at in the campaign's time zone.")
    phase = serializers.CharField(source="phase.name", read_only=True, allow_null=True)
    platform = serializers.CharField(read_only=True, help_text="email, linkedin, instagram or x.")

    class Meta:
        model = CalendarItem
        fields = [
            "id",
            "scheduled_at",
            "local_time",
            "platform",
            "content_type",
            "theme",
            "phase",
            "notes",
            "edited_by_operator",
        ]
        read_only_fields = fields

    def get_local_time(self, obj: CalendarItem) -> str:
        return obj.scheduled_at.astimezone(zoneinfo.ZoneInfo(obj.campaign.timezone)).isoformat()


class StrategyBriefSerializer(serializers.ModelSerializer):
    # Plain strings here: the service normalises aliases ("Twitter" -> "x") and names bad values.
    channels = serializers.ListField(
        child=serializers.CharField(), help_text=f"Channel names: {', '.join(k for k, _ in CHANNELS)}."
    )
    tone = serializers.CharField(required=False, help_text=f"One of: {', '.join(Tone.values)}.")

    class Meta:
        model = Brief
        fields = [
            "campaign",
            "objective",
            "audience",
            "offer",
            "channels",
            "tone",
            "constraints",
            "budget",
            "currency",
            "updated_at",
        ]
        read_only_fields = ["campaign", "updated_at"]


# --- views -----------------------------------------------------------------------------------


def visible_campaign(request: Request, campaign_id: int) -> Campaign:
    return get_object_or_404(campaigns_visible_to(request.user), pk=campaign_id)


_not_found = OpenApiResponse(description="No such campaign (or variant) for this client.")
_decision_responses = {
    200: StrategyVariantSerializer,
    400: OpenApiResponse(BadRequestSerializer, description="Missing or invalid input (e.g. no rationale)."),
    403: OpenApiResponse(
        StrategyErrorSerializer,
        description="The caller's role may not decide (client users: only where the campaign allows it).",
    ),
    404: _not_found,
    409: OpenApiResponse(
        StrategyErrorSerializer, description="The variant's or campaign's state forbids this step."
    ),
}


class CampaignStrategiesView(generics.ListAPIView):
    """The campaign's strategy batches, newest first, each with its variants."""

    serializer_class = StrategyBatchSerializer

    def get_queryset(self):
        campaign = visible_campaign(self.request, self.kwargs["campaign_id"])
        return batches_for_campaign(campaign).prefetch_related("variants__decisions")


class GenerateStrategiesView(generics.GenericAPIView):
    serializer_class = StrategyGenerateRequestSerializer
    write_actions = {"post": "strategy.generate"}

    @extend_schema(
        request=StrategyGenerateRequestSerializer,
        responses={
            201: StrategyBatchSerializer,
            400: OpenApiResponse(BadRequestSerializer, description="Invalid variant count or generator."),
            403: OpenApiResponse(
                StrategyErrorSerializer, description="Only agency staff generate strategies."
            ),
            404: _not_found,
            409: OpenApiResponse(
                StrategyErrorSerializer, description="The campaign is completed or cancelled."
            ),
            502: OpenApiResponse(
                StrategyErrorSerializer, description="The generator gave no usable strategies."
            ),
        },
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        """Generate a new batch of strategy variants (3 by default). Earlier batches stay as they are.
        A draft or planning campaign moves on to awaiting approval."""
        campaign = visible_campaign(request, campaign_id)
        body = StrategyGenerateRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            batch = generate_strategies(
                campaign=campaign,
                actor=request.user,
                variants=body.validated_data["variants"],
                generator=body.validated_data.get("generator"),
            )
        except StrategyError as exc:
            return Response(exc.as_dict(), status=status.HTTP_502_BAD_GATEWAY)
        batch = batches_for_campaign(campaign).prefetch_related("variants__decisions").get(pk=batch.pk)
        return Response(StrategyBatchSerializer(batch).data, status=status.HTTP_201_CREATED)


class CampaignBriefView(generics.GenericAPIView):
    serializer_class = StrategyBriefSerializer
    write_actions = {"put": "strategy.edit_brief"}

    def get_object(self) -> Brief | None:
        # DRF's OPTIONS metadata calls get_object() to describe PUT; without this it asserted
        # (no queryset) and answered 500. The brief is found through its campaign, scoped as usual.
        return brief_for_campaign(visible_campaign(self.request, self.kwargs["campaign_id"]))

    @extend_schema(responses={200: StrategyBriefSerializer, 404: _not_found})
    def get(self, request: Request, campaign_id: int) -> Response:
        """The campaign's strategy brief."""
        brief = brief_for_campaign(visible_campaign(request, campaign_id))
        if brief is None:
            return Response({"detail": "This campaign has no brief yet."}, status=status.HTTP_404_NOT_FOUND)
        return Response(StrategyBriefSerializer(brief).data)

    @extend_schema(
        request=StrategyBriefSerializer,
        responses={
            200: StrategyBriefSerializer,
            400: OpenApiResponse(description="Field errors, keyed by field."),
            403: OpenApiResponse(StrategyErrorSerializer, description="Only agency staff edit a brief."),
        },
    )
    def put(self, request: Request, campaign_id: int) -> Response:
        """Create or update the brief (staff). Text is trimmed and channel names normalised."""
        campaign = visible_campaign(request, campaign_id)
        partial = brief_for_campaign(campaign) is not None
        body = StrategyBriefSerializer(data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        brief = save_brief(campaign=campaign, actor=request.user, **body.validated_data)
        return Response(StrategyBriefSerializer(brief).data)


class CampaignPlanView(generics.GenericAPIView):
    serializer_class = StrategyPlanSerializer

    @extend_schema(responses={200: StrategyPlanSerializer, 404: _not_found})
    def get(self, request: Request, campaign_id: int) -> Response:
        """The plan built from the approved strategy: phases with dates, tactics and metrics."""
        plan = plan_for(visible_campaign(request, campaign_id))
        if plan is None:
            return Response(
                {"detail": "No plan yet: approve a strategy variant first.", "code": "not_found"},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(StrategyPlanSerializer(plan).data)


class CampaignCalendarView(generics.ListAPIView):
    """The content calendar, in time order. Filter with ?month=YYYY-MM and ?platform=."""

    serializer_class = StrategyCalendarItemSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM, in the campaign's time zone"),
            OpenApiParameter("platform", OpenApiTypes.STR, enum=[k for k, _ in CHANNELS]),
        ]
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        campaign = visible_campaign(self.request, self.kwargs["campaign_id"])
        month = None
        raw_month = self.request.query_params.get("month")
        if raw_month:
            try:
                month = dt.datetime.strptime(raw_month, "%Y-%m").date()
            except ValueError:
                raise serializers.ValidationError({"month": "Use the form YYYY-MM, e.g. 2026-03."}) from None
        return calendar_items_for(
            campaign, month=month, platform=self.request.query_params.get("platform")
        ).select_related("campaign")


class StrategyVariantViewSet(viewsets.ReadOnlyModelViewSet):
    """Strategy variants of the caller's campaigns. Filter with ?campaign=ID and ?state=."""

    serializer_class = StrategyVariantSerializer
    write_actions = {"select": "strategy.decide", "approve": "strategy.decide", "reject": "strategy.decide"}

    def get_queryset(self):
        variants = variants_visible_to(self.request.user).prefetch_related("decisions")
        campaign = self.request.query_params.get("campaign")
        if campaign and campaign.isdigit():
            variants = variants.filter(campaign_id=int(campaign))
        state = self.request.query_params.get("state")
        if state in VariantState.values:
            variants = variants.filter(state=state)
        return variants.order_by("-batch__number", "position")

    def _decide(self, request: Request, service, body_serializer) -> Response:
        variant = self.get_object()
        body = body_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        expected = body.validated_data.get("campaign")
        if expected is not None:
            # A campaign the caller cannot see is as unknown as a missing one.
            expected = visible_campaign(request, expected)
        service(
            variant=variant,
            actor=request.user,
            rationale=body.validated_data.get("rationale", ""),
            campaign=expected,
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=variant.pk)).data)

    @extend_schema(request=StrategyDecisionRequestSerializer, responses=_decision_responses)
    @action(detail=True, methods=["post"])
    def select(self, request: Request, pk: str | None = None) -> Response:
        """Select this variant; any other selected variant of the campaign goes back to proposed."""
        return self._decide(request, select_strategy_variant, StrategyDecisionRequestSerializer)

    @extend_schema(request=StrategyDecisionRequestSerializer, responses=_decision_responses)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve the selected variant: records who, when and why, builds the plan and calendar and
        moves the campaign to approved. One approved strategy per campaign."""
        return self._decide(request, approve_strategy_variant, StrategyDecisionRequestSerializer)

    @extend_schema(request=StrategyRejectRequestSerializer, responses=_decision_responses)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Reject a proposed or selected variant, with a rationale."""
        return self._decide(request, reject_strategy_variant, StrategyRejectRequestSerializer)
