"""Reporting API: campaign metrics, weekly and executive summaries, A/B results, outcomes.

Every route is scoped by `campaigns_visible_to`: another client's campaign is a 404.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.api import BadRequestSerializer, ErrorSerializer
from campaigns.selectors import campaigns_visible_to
from leads.models import Lead

from .executive import executive_summary
from .models import Outcome, WeeklySummary
from .selectors.ab_results import ab_results
from .selectors.metrics import DEFAULT_WINDOW_DAYS, campaign_metrics
from .services import record_outcome

NOT_FOUND = OpenApiResponse(description="No such campaign for this client.")
MAX_WINDOW_DAYS = 90


class OutreachTotalsSerializer(serializers.Serializer):
    sent = serializers.IntegerField(help_text="Live and dry-run sends.")
    live_sent = serializers.IntegerField()
    dry_run_recorded = serializers.IntegerField()
    failed = serializers.IntegerField()
    dead = serializers.IntegerField()
    skipped_or_cancelled = serializers.IntegerField()
    opened = serializers.IntegerField()
    clicked = serializers.IntegerField()
    replied = serializers.IntegerField()
    bounced = serializers.IntegerField(help_text="Hard bounces.")
    complained = serializers.IntegerField()
    unsubscribed = serializers.IntegerField()
    open_rate = serializers.FloatField()
    click_rate = serializers.FloatField()
    reply_rate = serializers.FloatField()
    bounce_rate = serializers.FloatField()
    complaint_rate = serializers.FloatField()


class TaskTotalsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField()
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    impressions = serializers.IntegerField()
    engagements = serializers.IntegerField()
    clicks = serializers.IntegerField()
    completion_rate = serializers.FloatField()


class CampaignMetricsSerializer(serializers.Serializer):
    campaign_id = serializers.IntegerField()
    leads_total = serializers.IntegerField()
    by_state = serializers.DictField(child=serializers.IntegerField(), help_text="Lead count per lead state.")
    qualified = serializers.IntegerField(help_text="Qualified and won leads.")
    won = serializers.IntegerField()
    conversion_rate = serializers.FloatField(help_text="qualified / leads_total")
    target_clients = serializers.IntegerField()
    goal_progress = serializers.FloatField(help_text="qualified / target_clients")
    window_days = serializers.IntegerField()
    today_outreach = OutreachTotalsSerializer(help_text="Today in the campaign's time zone.")
    last_days_outreach = OutreachTotalsSerializer(help_text="The last `window_days` days.")
    lifetime_outreach = OutreachTotalsSerializer()
    tasks = TaskTotalsSerializer()


class ComparisonSerializer(serializers.Serializer):
    winner = serializers.CharField(allow_null=True, help_text="Set only when the difference is significant.")
    best = serializers.CharField(allow_null=True)
    runner_up = serializers.CharField(allow_null=True)
    z = serializers.FloatField()
    p_value = serializers.FloatField()
    alpha = serializers.FloatField(help_text="Significance level after the Bonferroni correction.")
    significant = serializers.BooleanField()
    explanation = serializers.CharField()


class VariantResultSerializer(serializers.Serializer):
    step_variant_id = serializers.IntegerField()
    label = serializers.CharField()
    creative_id = serializers.IntegerField()
    creative = serializers.CharField()
    sent = serializers.IntegerField(help_text="Live sends.")
    opened = serializers.IntegerField()
    clicked = serializers.IntegerField()
    replied = serializers.IntegerField()
    open_rate = serializers.FloatField()
    click_rate = serializers.FloatField()
    reply_rate = serializers.FloatField()


class StepABSerializer(serializers.Serializer):
    sequence_id = serializers.IntegerField()
    sequence = serializers.CharField()
    step_id = serializers.IntegerField()
    position = serializers.IntegerField()
    variants = VariantResultSerializer(many=True)
    reply_rate_test = ComparisonSerializer()
    open_rate_test = ComparisonSerializer()


class RecommendationSerializer(serializers.Serializer):
    code = serializers.CharField()
    priority = serializers.IntegerField(help_text="1 = do first.")
    action = serializers.CharField()
    because = serializers.CharField(help_text="The numbers that triggered this recommendation.")


class KpiSerializer(serializers.Serializer):
    leads_total = serializers.IntegerField()
    qualified = serializers.IntegerField()
    won = serializers.IntegerField()
    target_clients = serializers.IntegerField()
    conversion_rate = serializers.FloatField()
    goal_progress = serializers.FloatField()
    live_sent = serializers.IntegerField()
    reply_rate = serializers.FloatField()
    open_rate = serializers.FloatField()
    bounce_rate = serializers.FloatField()
    task_completion_rate = serializers.FloatField()
    budget_ratio = serializers.FloatField(allow_null=True)
    cap_reached_days_running = serializers.IntegerField()
    currency = serializers.CharField()
    revenue = serializers.DecimalField(max_digits=18, decimal_places=2)
    spend = serializers.DecimalField(max_digits=18, decimal_places=2)
    leads = serializers.IntegerField()
    won_deals = serializers.IntegerField()
    cost_per_lead = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    cost_per_qualified_lead = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    cost_per_won_deal = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    roi = serializers.FloatField(
        allow_null=True, help_text="(revenue - spend) / spend; null when nothing spent."
    )


class ExecutiveSummarySerializer(serializers.Serializer):
    campaign_id = serializers.IntegerField()
    generated_at = serializers.DateTimeField()
    kpis = KpiSerializer()
    insights = serializers.ListField(child=serializers.CharField())
    next_actions = RecommendationSerializer(many=True)


class WeeklySummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = WeeklySummary
        fields = [
            "week_start",
            "iso_year",
            "iso_week",
            "tasks_total",
            "tasks_done",
            "completion_rate",
            "impressions",
            "engagements",
            "clicks",
            "sent",
            "dry_run_recorded",
            "replies",
            "new_qualified_leads",
            "spend",
            "currency",
            "built_at",
        ]


class OutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Outcome
        fields = ["id", "campaign", "lead", "deal_value", "currency", "won_at", "note", "created_at"]
        read_only_fields = ["id", "campaign", "created_at"]
        extra_kwargs = {"currency": {"required": False}, "won_at": {"required": False}}


def _campaign_for(request: Request, campaign_id: int):
    return get_object_or_404(campaigns_visible_to(request.user), pk=campaign_id)


class CampaignMetricsView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "days",
                int,
                default=DEFAULT_WINDOW_DAYS,
                description=f"Window for last_days (1 to {MAX_WINDOW_DAYS}).",
            )
        ],
        responses={200: CampaignMetricsSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        """Funnel, conversion, goal progress, outreach today / last N days / lifetime, task completion."""
        campaign = _campaign_for(request, campaign_id)
        raw = request.query_params.get("days", str(DEFAULT_WINDOW_DAYS))
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_WINDOW_DAYS:
            raise serializers.ValidationError(
                {"days": f"Expected a whole number from 1 to {MAX_WINDOW_DAYS}, got {raw!r}."}
            )
        metrics = campaign_metrics(campaign, days=int(raw))
        return Response(CampaignMetricsSerializer(metrics.as_dict()).data)


class CampaignABResultsView(APIView):
    @extend_schema(responses={200: StepABSerializer(many=True), 404: NOT_FOUND})
    def get(self, request: Request, campaign_id: int) -> Response:
        """Per sequence step: each variant's numbers and the reply / open rate tests."""
        campaign = _campaign_for(request, campaign_id)
        return Response(StepABSerializer([s.as_dict() for s in ab_results(campaign)], many=True).data)


class CampaignExecutiveSummaryView(APIView):
    @extend_schema(responses={200: ExecutiveSummarySerializer, 404: NOT_FOUND})
    def get(self, request: Request, campaign_id: int) -> Response:
        """KPIs, insights and recommended next actions, each with the numbers behind it."""
        campaign = _campaign_for(request, campaign_id)
        return Response(ExecutiveSummarySerializer(executive_summary(campaign).as_dict()).data)


class CampaignWeeklySummaryListView(generics.ListAPIView):
    serializer_class = WeeklySummarySerializer

    @extend_schema(responses={200: WeeklySummarySerializer(many=True), 404: NOT_FOUND})
    def get(self, request: Request, *args, **kwargs) -> Response:
        """Stored weekly summaries of the campaign, newest week first."""
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        campaign = _campaign_for(self.request, self.kwargs["campaign_id"])
        return WeeklySummary.objects.filter(campaign=campaign).order_by("-week_start")


class CampaignOutcomeCreateView(APIView):
    write_actions = {"post": "outcome.record"}  # who may: campaigns.permissions

    @extend_schema(
        request=OutcomeSerializer,
        responses={
            201: OutcomeSerializer,
            400: BadRequestSerializer,
            403: OpenApiResponse(description="Only agency staff record outcomes."),
            404: NOT_FOUND,
            409: ErrorSerializer,
        },
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        """Record a won deal for a lead of this campaign (a qualified lead is moved to won)."""
        campaign = _campaign_for(request, campaign_id)
        body = OutcomeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lead: Lead = body.validated_data["lead"]
        if lead.campaign_id != campaign.pk:
            raise serializers.ValidationError(
                {"lead": f"Lead #{lead.pk} is not a lead of campaign #{campaign.pk}."}
            )
        outcome = record_outcome(
            lead=lead,
            deal_value=body.validated_data["deal_value"],
            currency=body.validated_data.get("currency", ""),
            won_at=body.validated_data.get("won_at"),
            note=body.validated_data.get("note", ""),
            actor=request.user,
        )
        return Response(OutcomeSerializer(outcome).data, status=status.HTTP_201_CREATED)
