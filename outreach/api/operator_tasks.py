"""API for operator tasks: list per campaign (today / overdue), detail with SOP and creative text,
and the staff-only lifecycle (start, complete with proof, skip, fail) and metric entries."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.api import BadRequestSerializer, ErrorSerializer
from campaigns.selectors import campaigns_visible_to

from ..models.operator_tasks import MetricEntry, OperatorTask, OperatorTaskState
from ..selectors.operator_tasks import (
    operator_tasks_for_campaign,
    operator_tasks_visible_to,
    overdue_tasks,
    todays_tasks,
)
from ..services.operator_tasks.lifecycle import complete_task, fail_task, skip_task, start_task
from ..services.operator_tasks.metrics import record_metrics

__all__ = ["CampaignOperatorTaskListView", "OperatorTaskViewSet"]

DUE_FILTERS = ("today", "overdue")
MAX_METRIC_COUNT = 2_147_483_647  # PositiveIntegerField's upper bound on PostgreSQL


class InstructionsSerializer(serializers.Serializer):
    key = serializers.CharField(allow_blank=True)
    version = serializers.IntegerField(allow_null=True)
    title = serializers.CharField()
    where = serializers.CharField()
    how = serializers.ListField(child=serializers.CharField())
    tips = serializers.ListField(child=serializers.CharField())
    common_mistakes = serializers.ListField(child=serializers.CharField())


class CreativeSnapshotSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False)
    generation = serializers.IntegerField(required=False)
    subject = serializers.CharField(required=False, allow_blank=True)
    preheader = serializers.CharField(required=False, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True)
    cta = serializers.CharField(required=False, allow_blank=True)
    hashtags = serializers.ListField(child=serializers.CharField(), required=False)
    media_notes = serializers.CharField(required=False, allow_blank=True)


class MetricEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = MetricEntry
        fields = ["id", "task", "impressions", "engagements", "clicks", "note", "recorded_at", "recorded_by"]
        read_only_fields = fields


class OperatorTaskSerializer(serializers.ModelSerializer):
    instructions = InstructionsSerializer(read_only=True)
    # Empty until done with a link: a plain string, since "" is not a valid `format: uri`.
    proof_url = serializers.CharField(read_only=True, help_text="Link to the published post; empty if none.")
    creative_snapshot = CreativeSnapshotSerializer(read_only=True)

    class Meta:
        model = OperatorTask
        fields = [
            "id",
            "campaign",
            "task_type",
            "platform",
            "content_type",
            "title",
            "state",
            "due_at",
            "assignee",
            "overdue_since",
            "sop_key",
            "sop_version",
            "instructions",
            "creative",
            "creative_snapshot",
            "calendar_item",
            "parent",
            "started_at",
            "proof_url",
            "proof_text",
            "outcome_reason",
            "completed_at",
            "completed_by",
            "created_at",
        ]
        read_only_fields = fields


class OperatorTaskDetailSerializer(OperatorTaskSerializer):
    metric_entries = MetricEntrySerializer(many=True, read_only=True)
    follow_ups = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta(OperatorTaskSerializer.Meta):
        fields = [*OperatorTaskSerializer.Meta.fields, "follow_ups", "metric_entries"]
        read_only_fields = fields


class CompleteRequestSerializer(serializers.Serializer):
    proof_url = serializers.CharField(
        required=False, allow_blank=True, max_length=1000, help_text="Link to the published post."
    )
    proof_text = serializers.CharField(
        required=False, allow_blank=True, max_length=4000, help_text="What was done, when there is no URL."
    )


class ReasonRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, max_length=4000, help_text="Why (required).")


class MetricsRequestSerializer(serializers.Serializer):
    # Capped at the columns' range: a larger number answered 500 on PostgreSQL (found by fuzzing).
    impressions = serializers.IntegerField(min_value=0, max_value=MAX_METRIC_COUNT, default=0)
    engagements = serializers.IntegerField(min_value=0, max_value=MAX_METRIC_COUNT, default=0)
    clicks = serializers.IntegerField(min_value=0, max_value=MAX_METRIC_COUNT, default=0)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)
    recorded_at = serializers.DateTimeField(required=False, help_text="Defaults to now.")


_write_responses = {
    200: OperatorTaskSerializer,
    400: OpenApiResponse(
        BadRequestSerializer, description="Missing proof or reason, or an invalid proof URL."
    ),
    403: OpenApiResponse(description="Only agency staff work on operator tasks."),
    404: OpenApiResponse(description="No such task for this client."),
    409: OpenApiResponse(ErrorSerializer, description="The task's state does not allow this step."),
}


class CampaignOperatorTaskListView(generics.ListAPIView):
    """Operator tasks of one campaign, by due time (`?state=`, `?due=today|overdue`)."""

    serializer_class = OperatorTaskSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("state", enum=OperatorTaskState.values),
            OpenApiParameter(
                "due",
                enum=list(DUE_FILTERS),
                description="today: open tasks due today in the campaign's time zone; "
                "overdue: open tasks past their due time.",
            ),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        campaign = get_object_or_404(campaigns_visible_to(self.request.user), pk=self.kwargs["campaign_id"])
        queryset = operator_tasks_for_campaign(campaign)
        state = self.request.query_params.get("state")
        if state:
            if state not in OperatorTaskState.values:
                raise ValidationError(
                    {"state": f"Unknown state; use one of {', '.join(OperatorTaskState.values)}."}
                )
            queryset = queryset.filter(state=state)
        due = self.request.query_params.get("due")
        if due == "today":
            queryset = todays_tasks(campaign=campaign, queryset=queryset)
        elif due == "overdue":
            queryset = overdue_tasks(campaign=campaign, queryset=queryset)
        elif due:
            raise ValidationError({"due": "Use due=today or due=overdue."})
        return queryset.order_by("due_at", "id")


class OperatorTaskViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One operator task with its SOP snapshot, creative text, follow-ups and metric entries."""

    serializer_class = OperatorTaskDetailSerializer
    # Agency staff only (campaigns.permissions); client users read their tasks.
    write_actions = {
        "start": "task.work",
        "complete": "task.work",
        "skip": "task.work",
        "fail": "task.work",
        "metrics": "task.record_metrics",
    }

    def get_queryset(self):
        return operator_tasks_visible_to(self.request.user).prefetch_related("metric_entries", "follow_ups")

    def _task_for_staff(self, request: Request) -> OperatorTask:
        # Another client's task is a 404 before it is a 403 (ActionPermission judges the object).
        return self.get_object()

    @extend_schema(request=None, responses=_write_responses)
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        """Take a pending task (it is assigned to you when nobody has it)."""
        task = start_task(task=self._task_for_staff(request), actor=request.user)
        return Response(OperatorTaskSerializer(task).data)

    @extend_schema(request=CompleteRequestSerializer, responses=_write_responses)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        """Mark done with proof (`proof_url` or `proof_text`); a post gets follow-ups at +2 h and +24 h."""
        task = self._task_for_staff(request)
        body = CompleteRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        task = complete_task(task=task, actor=request.user, **body.validated_data)
        return Response(OperatorTaskSerializer(task).data)

    def _close(self, request: Request, service) -> Response:
        task = self._task_for_staff(request)
        body = ReasonRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        task = service(task=task, reason=body.validated_data["reason"], actor=request.user)
        return Response(OperatorTaskSerializer(task).data)

    @extend_schema(request=ReasonRequestSerializer, responses=_write_responses)
    @action(detail=True, methods=["post"])
    def skip(self, request: Request, pk: str | None = None) -> Response:
        """Deliberately not done (reason required)."""
        return self._close(request, skip_task)

    @extend_schema(request=ReasonRequestSerializer, responses=_write_responses)
    @action(detail=True, methods=["post"])
    def fail(self, request: Request, pk: str | None = None) -> Response:
        """Could not be done (reason required)."""
        return self._close(request, fail_task)

    @extend_schema(
        request=MetricsRequestSerializer,
        responses={**{k: v for k, v in _write_responses.items() if k != 200}, 201: MetricEntrySerializer},
    )
    @action(detail=True, methods=["post"])
    def metrics(self, request: Request, pk: str | None = None) -> Response:
        """Record one reading of impressions, engagements and clicks (several per task are fine)."""
        task = self._task_for_staff(request)
        body = MetricsRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        entry = record_metrics(task=task, actor=request.user, **body.validated_data)
        return Response(MetricEntrySerializer(entry).data, status=status.HTTP_201_CREATED)
