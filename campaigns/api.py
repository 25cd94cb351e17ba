"""Client-facing API for campaigns: serializers and viewsets around the services."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from .campaign_types import campaign_type_choices
from .lifecycle import LIFECYCLE
from .metrics_hooks import detail_metrics, list_metrics
from .models import CHANNELS, Campaign, Client, PauseKind, RiskFlag, SpendEntry
from .permissions import is_client_user, pause_status
from .selectors import (
    available_transitions,
    budget_status,
    campaigns_visible_to,
    clients_visible_to,
    effective_policy,
    open_risk_flags,
    spending_blocked_reason,
)
from .sender_identity import sender_identity
from .services.budget import raise_budget_cap
from .services.editing import AGENCY_FIELDS, CLIENT_WRITABLE_FIELDS, create_campaign
from .services.transitions import kill_campaign, pause_campaign, resume_campaign, transition_campaign


class CampaignSerializer(serializers.ModelSerializer):
    client = serializers.PrimaryKeyRelatedField(
        queryset=Client.objects.all(),
        required=False,
        help_text=(
            "Staff only: the client this campaign belongs to. "
            "Client users always create for their own client."
        ),
    )
    client_name = serializers.CharField(source="client.name", read_only=True)
    type = serializers.ChoiceField(choices=campaign_type_choices(), default="lead_gen")
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=CHANNELS),
        required=False,
        help_text='Enabled channels; defaults to ["email"].',
    )
    available_transitions = serializers.SerializerMethodField()
    current_leads = serializers.SerializerMethodField(help_text="Leads in the campaign now.")
    qualified_leads = serializers.SerializerMethodField(help_text="Qualified or won leads.")
    conversion_rate = serializers.SerializerMethodField(help_text="qualified_leads / current_leads.")
    goal_progress = serializers.SerializerMethodField(help_text="qualified_leads / target_clients.")

    class Meta:
        model = Campaign
        fields = [
            "id",
            "client",
            "client_name",
            "name",
            "type",
            "objective",
            "target_niche",
            "icp",
            "target_clients",
            "target_mrr",
            "channels",
            "daily_email_cap",
            "timezone",
            "start_date",
            "end_date",
            "mode",
            "allow_client_approval",
            "budget_cap",
            "currency",
            "state",
            "state_reason",
            "state_changed_at",
            "pause_kind",
            "available_transitions",
            "current_leads",
            "qualified_leads",
            "conversion_rate",
            "goal_progress",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "mode",
            "state",
            "state_reason",
            "state_changed_at",
            "pause_kind",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            field: {"help_text": f"Agency staff only: {Campaign._meta.get_field(field).help_text}"}
            for field in AGENCY_FIELDS
            if field in ("allow_client_approval", "budget_cap", "currency", "daily_email_cap")
        }

    def to_internal_value(self, data):
        """Client users write only the client fields; approval rights, budget, caps and currency
        are the agency's. Naming one is a 400 that says which (not silently ignored), with the
        errors of the other fields."""
        request = self.context.get("request")
        refused: dict[str, list[str]] = {}
        if request is not None and is_client_user(request.user) and hasattr(data, "keys"):
            refused = {
                field: [
                    f"Set by your agency; client users may not write {field}. "
                    f"Client users may write: {', '.join(CLIENT_WRITABLE_FIELDS)}."
                ]
                for field in sorted(set(data.keys()) & set(AGENCY_FIELDS))
            }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if refused and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **refused}) from exc
            raise
        if refused:
            raise serializers.ValidationError(refused)
        return value

    def get_available_transitions(self, obj: Campaign) -> list[str]:
        return available_transitions(obj)

    def _live(self, obj: Campaign) -> dict:
        live = self.context.get("live_metrics")
        if live is None:  # a single object outside the list: compute for it alone
            live = list_metrics([obj])
        return live.get(obj.pk, {})

    def get_current_leads(self, obj: Campaign) -> int:
        return self._live(obj).get("current_leads", 0)

    def get_qualified_leads(self, obj: Campaign) -> int:
        return self._live(obj).get("qualified_leads", 0)

    def get_conversion_rate(self, obj: Campaign) -> float:
        return self._live(obj).get("conversion_rate", 0.0)

    def get_goal_progress(self, obj: Campaign) -> float:
        return self._live(obj).get("goal_progress", 0.0)


class RiskFlagSerializer(serializers.ModelSerializer):
    target_type = serializers.CharField(source="target_type.model", read_only=True)

    class Meta:
        model = RiskFlag
        fields = [
            "id",
            "severity",
            "code",
            "message",
            "target_type",
            "target_id",
            "target_repr",
            "status",
            "created_at",
        ]
        read_only_fields = fields


class BudgetStatusSerializer(serializers.Serializer):
    cap = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    spent = serializers.DecimalField(max_digits=14, decimal_places=2)
    remaining = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    ratio = serializers.FloatField(allow_null=True)
    percent = serializers.FloatField(allow_null=True)
    level = serializers.ChoiceField(choices=["ok", "warning", "exhausted"])
    blocked_reason = serializers.CharField(allow_blank=True)


class CompliancePolicySummarySerializer(serializers.Serializer):
    source = serializers.CharField()
    required_approvals = serializers.ListField(child=serializers.CharField())
    consent_regions = serializers.ListField(child=serializers.CharField())
    quiet_hours_start = serializers.TimeField(allow_null=True)
    quiet_hours_end = serializers.TimeField(allow_null=True)
    max_daily_volume = serializers.IntegerField(allow_null=True)
    has_sender_postal_address = serializers.BooleanField()


class PauseStatusSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[k for k in PauseKind.values if k],
        help_text="manual: a person paused it; circuit_breaker / auto_pause: a safety rule did.",
    )
    safety = serializers.BooleanField(help_text="A safety pause: only an approver resumes it.")
    reason = serializers.CharField(help_text="Why it was paused.")
    since = serializers.DateTimeField(allow_null=True)
    resume_action = serializers.CharField(help_text="The permission action resuming needs.")
    resumable_by = serializers.CharField(help_text="Who may resume it.")
    rationale_required = serializers.BooleanField(help_text="Resuming needs a reason.")
    you_may_resume = serializers.BooleanField(help_text="Whether the caller may resume it.")


class CampaignDetailSerializer(CampaignSerializer):
    """The detail adds governance: budget, why spending is blocked, open risk flags, policy, and
    for a paused campaign why it is paused and who may resume it."""

    budget = serializers.SerializerMethodField()
    blocked_reason = serializers.SerializerMethodField(
        help_text="Why generation and sending are refused now (system pause or budget); empty when not."
    )
    risk_flags = serializers.SerializerMethodField(help_text="Open risk flags of the campaign and its work.")
    compliance_policy = serializers.SerializerMethodField()
    metrics = serializers.SerializerMethodField(
        help_text="Funnel, goal progress, outreach totals (today, last 7 days, lifetime) and task completion."
    )
    today_outreach = serializers.SerializerMethodField(help_text="Today's sends, failures and rates.")
    pause = serializers.SerializerMethodField(
        help_text="While paused: what paused it and why, and who may resume it; null otherwise."
    )

    class Meta(CampaignSerializer.Meta):
        fields = [
            *CampaignSerializer.Meta.fields,
            "pause",
            "metrics",
            "today_outreach",
            "budget",
            "blocked_reason",
            "risk_flags",
            "compliance_policy",
        ]

    def _metrics(self, obj: Campaign) -> dict:
        cache = self.context.setdefault("detail_metrics", {})
        if obj.pk not in cache:
            cache[obj.pk] = detail_metrics(obj)
        return cache[obj.pk]

    @extend_schema_field(serializers.DictField())
    def get_metrics(self, obj: Campaign) -> dict:
        return self._metrics(obj)

    @extend_schema_field(serializers.DictField())
    def get_today_outreach(self, obj: Campaign) -> dict:
        return self._metrics(obj).get("today_outreach", {})

    @extend_schema_field(BudgetStatusSerializer)
    def get_budget(self, obj: Campaign) -> dict:
        return budget_status(obj).as_dict()

    @extend_schema_field(PauseStatusSerializer(allow_null=True))
    def get_pause(self, obj: Campaign) -> dict | None:
        request = self.context.get("request")
        return pause_status(obj, request.user if request is not None else None)

    def get_blocked_reason(self, obj: Campaign) -> str:
        return spending_blocked_reason(obj)

    @extend_schema_field(RiskFlagSerializer(many=True))
    def get_risk_flags(self, obj: Campaign) -> list[dict]:
        flags = open_risk_flags(campaign=obj).select_related("target_type")
        return RiskFlagSerializer(flags, many=True).data

    @extend_schema_field(CompliancePolicySummarySerializer)
    def get_compliance_policy(self, obj: Campaign) -> dict:
        policy = effective_policy(obj)
        return {
            "source": policy.source,
            "required_approvals": list(policy.required_approvals),
            "consent_regions": list(policy.consent_regions),
            "quiet_hours_start": policy.quiet_hours_start,
            "quiet_hours_end": policy.quiet_hours_end,
            "max_daily_volume": policy.max_daily_volume,
            # The address an email carries: the sender identity decides it (the policy's counts last).
            "has_sender_postal_address": bool(sender_identity(obj).postal_address),
        }


class BudgetCapSerializer(serializers.Serializer):
    budget_cap = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, allow_null=True, help_text="New cap; null removes it."
    )
    rationale = serializers.CharField(max_length=2000, help_text="Why; recorded in the audit timeline.")


class SpendEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = SpendEntry
        fields = ["id", "kind", "amount", "currency", "description", "created_at"]
        read_only_fields = fields


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Why; required to kill."
    )


class TransitionSerializer(serializers.Serializer):
    transition = serializers.ChoiceField(choices=list(LIFECYCLE), help_text="Lifecycle step to take.")
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Why; required for kill and return_to_planning.",
    )


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    # Domain errors name a machine-readable code; DRF's own errors (403, 404, 405) carry detail only.
    code = serializers.CharField(required=False, help_text="Machine-readable reason, on domain errors.")
    state = serializers.CharField(required=False)


class BadRequestSerializer(serializers.Serializer):
    """A 400 is either a domain error (detail and code) or DRF's field errors keyed by field name
    (``{"reason": ["This field is required."]}``), so neither key is required here."""

    detail = serializers.CharField(required=False)
    code = serializers.CharField(required=False, help_text="Machine-readable reason, on domain errors.")


_transition_responses = {
    200: CampaignSerializer,
    400: OpenApiResponse(
        BadRequestSerializer,
        description="Missing or invalid input (e.g. no reason for kill, or for resuming a safety pause).",
    ),
    403: OpenApiResponse(
        ErrorSerializer,
        description="The caller's role may not take this step (a safety pause is resumed by an approver).",
    ),
    404: OpenApiResponse(description="No such campaign for this client."),
    409: OpenApiResponse(ErrorSerializer, description="The campaign's state does not allow this transition."),
}


class CampaignViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Campaigns of the caller's client (staff: all clients)."""

    serializer_class = CampaignDetailSerializer
    # Who may: campaigns.permissions (the lifecycle steps of `transition` are checked one by one).
    write_actions = {
        "create": "campaign.create",
        "budget": "campaign.change_budget",
        "pause": "campaign.pause",
        "resume": "campaign.resume",
        "kill": "campaign.kill",
        "transition": "campaign.transition",
    }

    def get_serializer_class(self):
        # The list stays cheap (no per-row budget or flag queries); everything else is a detail.
        return CampaignSerializer if self.action == "list" else CampaignDetailSerializer

    def get_queryset(self):
        return campaigns_visible_to(self.request.user).select_related("client")

    def list(self, request: Request, *args, **kwargs) -> Response:
        """Campaigns with live metrics (current_leads, qualified_leads, conversion_rate,
        goal_progress), computed for the whole page in one grouped query."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = {**self.get_serializer_context(), "live_metrics": list_metrics(page)}
        serializer = self.get_serializer_class()(page, many=True, context=context)
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        methods=["GET"],
        responses=inline_serializer(
            "BudgetLedger",
            {"status": BudgetStatusSerializer(), "recent_entries": SpendEntrySerializer(many=True)},
        ),
    )
    @extend_schema(
        methods=["POST"],
        request=BudgetCapSerializer,
        responses={
            200: CampaignDetailSerializer,
            400: OpenApiResponse(BadRequestSerializer, description="Missing rationale or invalid cap."),
            403: OpenApiResponse(
                ErrorSerializer, description="Only the admin role (campaigns.manage_budget) changes a cap."
            ),
            404: OpenApiResponse(description="No such campaign for this client."),
        },
    )
    @action(detail=True, methods=["get", "post"])
    def budget(self, request: Request, pk: str | None = None) -> Response:
        """GET: budget status and the latest ledger entries. POST (admin role, `campaigns.manage_budget`):
        change the cap with a rationale; spending resumes when the new cap leaves room."""
        campaign = self.get_object()
        if request.method == "GET":
            entries = SpendEntry.objects.filter(campaign=campaign).order_by("-created_at", "-id")[:50]
            return Response(
                {
                    "status": budget_status(campaign).as_dict(),
                    "recent_entries": SpendEntrySerializer(entries, many=True).data,
                }
            )
        body = BudgetCapSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        updated = raise_budget_cap(
            campaign=campaign,
            new_cap=body.validated_data["budget_cap"],
            actor=request.user,
            rationale=body.validated_data["rationale"],
        )
        return Response(CampaignDetailSerializer(updated, context=self.get_serializer_context()).data)

    def perform_create(self, serializer: CampaignSerializer) -> None:
        user = self.request.user
        data = dict(serializer.validated_data)
        requested_client = data.pop("client", None)
        if user.is_staff:
            if requested_client is None:
                raise serializers.ValidationError(
                    {"client": "Staff must say which client the campaign is for."}
                )
            client = requested_client
        else:
            client = get_object_or_404(clients_visible_to(user))
            if requested_client is not None and requested_client.pk != client.pk:
                raise PermissionDenied("You can only create campaigns for your own client.")
        serializer.instance = create_campaign(client=client, actor=user, **data)

    @extend_schema(
        responses={
            201: CampaignDetailSerializer,
            400: OpenApiResponse(
                BadRequestSerializer,
                description="Field errors, keyed by field; for client users also any agency-only field.",
            ),
            403: OpenApiResponse(ErrorSerializer, description="The caller's role may not create campaigns."),
        }
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Create a campaign. Client users write only the client fields (name, type, objective,
        target_niche, icp, target_clients, target_mrr, channels, timezone, start_date, end_date);
        approval rights, budget cap, daily email cap and currency are set by the agency."""
        return super().create(request, *args, **kwargs)

    def _transition(self, request: Request, service, pk: str | None) -> Response:
        campaign = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        updated = service(
            campaign=campaign, actor=request.user, rationale=body.validated_data.get("reason", "")
        )
        return Response(self.get_serializer(updated).data, status=status.HTTP_200_OK)

    @extend_schema(request=ReasonSerializer, responses=_transition_responses)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        """Pause an active campaign: no new work starts until it is resumed."""
        return self._transition(request, pause_campaign, pk)

    @extend_schema(request=ReasonSerializer, responses=_transition_responses)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        """Resume a paused campaign. One a safety rule paused (circuit breaker, auto-pause rule; see
        `pause` in the detail) is resumed only by an approver, with a `reason`."""
        return self._transition(request, resume_campaign, pk)

    @extend_schema(
        request=inline_serializer("KillRequest", {"reason": serializers.CharField(max_length=2000)}),
        responses=_transition_responses,
    )
    @action(detail=True, methods=["post"])
    def kill(self, request: Request, pk: str | None = None) -> Response:
        """Cancel the campaign for good: scheduled work is cancelled and in-flight work stops."""
        return self._transition(request, kill_campaign, pk)

    @extend_schema(request=TransitionSerializer, responses=_transition_responses)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        """Take any lifecycle step by name (start_planning, submit_for_approval, approve, activate,
        pause, resume, complete, kill, return_to_planning). Client users may pause, resume, kill and
        complete, and approve only when the campaign allows client approval; each step is the action
        `campaign.<step>` of docs/SECURITY.md."""
        campaign = self.get_object()
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        updated = transition_campaign(
            campaign=campaign,
            transition=body.validated_data["transition"],
            actor=request.user,
            rationale=body.validated_data.get("reason", ""),
        )
        return Response(self.get_serializer(updated).data, status=status.HTTP_200_OK)
