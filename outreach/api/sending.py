"""API for the sending half: run a campaign's cycle on demand."""

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

__all__ = ["RunCycleView"]

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
