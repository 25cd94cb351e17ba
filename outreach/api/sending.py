"""API for the sending half: run a campaign's cycle on demand, or preview it (read only)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.permissions import require_action
from campaigns.selectors import campaigns_visible_to

from ..services.cycle import run_cycle
from ..services.preview import OUTCOME_LABELS, preview_next_cycle

__all__ = ["CyclePreviewView", "RunCycleView"]

CycleStatsSerializer = inline_serializer(
    "CycleStats",
    {
        "campaign_id": serializers.IntegerField(),
        "dry_run": serializers.BooleanField(),
        "discovered": serializers.IntegerField(),
        "enriched": serializers.IntegerField(),
        "enrolled": serializers.IntegerField(),
        "scheduled": serializers.IntegerField(),
        "sent": serializers.IntegerField(),
        "recorded_dry_run": serializers.IntegerField(),
        "failed": serializers.IntegerField(),
        "skipped": serializers.IntegerField(),
        "rescheduled": serializers.IntegerField(),
        "cap_reached": serializers.BooleanField(),
        "paused": serializers.BooleanField(),
        "pause_reason": serializers.CharField(),
        "skipped_cycle": serializers.CharField(),
        "simulated": serializers.BooleanField(),
        "errors": serializers.ListField(child=serializers.CharField()),
        "metrics": serializers.DictField(),
        "reasons": serializers.ListField(
            child=serializers.CharField(),
            help_text="Why nothing (or less) went, in sentences; times in the campaign's time zone.",
        ),
    },
)

CyclePreviewRowsSerializer = inline_serializer(
    "CyclePreviewRow",
    {
        "lead_id": serializers.IntegerField(),
        "email": serializers.CharField(),
        "name": serializers.CharField(),
        "sequence": serializers.CharField(),
        "step": serializers.IntegerField(allow_null=True),
        "variant": serializers.CharField(help_text="The A/B arm; 'A/B' when chosen at enrollment."),
        "outcome": serializers.ChoiceField(choices=sorted(OUTCOME_LABELS)),
        "outcome_label": serializers.CharField(),
        "at": serializers.DateTimeField(allow_null=True, help_text="When it goes (UTC)."),
        "at_display": serializers.CharField(help_text="The same in the campaign's time zone, named."),
        "mailbox": serializers.CharField(help_text="The From address."),
        "reason": serializers.CharField(),
        "message_id": serializers.IntegerField(allow_null=True),
        "enrollment_id": serializers.IntegerField(allow_null=True),
    },
    many=True,
)

CyclePreviewSerializer = inline_serializer(
    "CyclePreview",
    {
        "campaign_id": serializers.IntegerField(),
        "campaign_name": serializers.CharField(),
        "timezone": serializers.CharField(),
        "now": serializers.DateTimeField(),
        "now_display": serializers.CharField(),
        "dry_run": serializers.BooleanField(help_text="The cycle would record, not send."),
        "window": serializers.CharField(),
        "runs": serializers.BooleanField(help_text="False: the campaign is not active."),
        "gate_reason": serializers.CharField(),
        "room": serializers.IntegerField(),
        "rows": CyclePreviewRowsSerializer,
        "more_leads": serializers.IntegerField(),
        "truncated": serializers.BooleanField(),
        "explanation": serializers.ListField(child=serializers.CharField()),
        "counts": serializers.DictField(child=serializers.IntegerField()),
    },
)


class RunCycleView(APIView):
    write_actions = {"post": "outreach.run_cycle"}  # a live run is outreach.run_live_cycle

    @extend_schema(
        request=None,
        parameters=[
            OpenApiParameter(
                "dry_run",
                bool,
                default=True,
                description="true (default): record what would be sent, send nothing.",
            )
        ],
        responses={
            200: CycleStatsSerializer,
            404: OpenApiResponse(description="No such campaign for this client."),
        },
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        """Run the campaign's cycle now and answer with its stats (dry run unless `dry_run=false`)."""
        campaign = get_object_or_404(campaigns_visible_to(request.user), pk=campaign_id)
        raw = request.query_params.get("dry_run", "true").strip().lower()
        if raw not in {"true", "false", "1", "0"}:
            raise serializers.ValidationError({"dry_run": f"Expected true or false, got {raw!r}."})
        dry_run = raw in {"true", "1"}
        if not dry_run:
            require_action(request.user, "outreach.run_live_cycle", campaign)
        return Response(run_cycle(campaign_id=campaign.pk, dry_run=dry_run).as_dict())


class CyclePreviewView(APIView):
    """Read only: no action to declare (reads are scoped by ``campaigns_visible_to``)."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "dry_run",
                bool,
                default=False,
                description="false (default): the next scheduled cycle (a live campaign sends); "
                "true: a dry run of it.",
            )
        ],
        responses={
            200: CyclePreviewSerializer,
            404: OpenApiResponse(description="No such campaign for this client."),
        },
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        """What the campaign's next cycle would do: who gets which step, when (UTC and the campaign's
        time zone) and from which mailbox, or why not. Writes nothing and uses nothing up."""
        campaign = get_object_or_404(
            campaigns_visible_to(request.user).select_related("client"), pk=campaign_id
        )
        raw = request.query_params.get("dry_run", "false").strip().lower()
        if raw not in {"true", "false", "1", "0"}:
            raise serializers.ValidationError({"dry_run": f"Expected true or false, got {raw!r}."})
        return Response(preview_next_cycle(campaign=campaign, dry_run=raw in {"true", "1"}).as_dict())
