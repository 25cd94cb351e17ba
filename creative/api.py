"""Client-facing API for creative: list, generate, inspect (findings + lineage), decide, edit, preview."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.api import BadRequestSerializer, ErrorSerializer
from campaigns.models import Campaign
from campaigns.selectors import campaigns_visible_to

from .models import CreativeState, CreativeVariant, Platform
from .preview import lead_context
from .selectors import creative_family, creatives_for_campaign, creatives_visible_to
from .services import (
    approve_creative,
    edit_creative,
    generate_creatives,
    reject_creative,
    render_creative,
    request_creative_changes,
)


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.ChoiceField(choices=["error", "warning"])
    message = serializers.CharField()


class CreativeSerializer(serializers.ModelSerializer):
    check_findings = FindingSerializer(many=True, read_only=True)
    brief_pillar = serializers.CharField(source="brief.pillar", read_only=True)

    class Meta:
        model = CreativeVariant
        fields = [
            "id",
            "campaign",
            "brief",
            "brief_pillar",
            "platform",
            "angle",
            "state",
            "generation",
            "variant_of",
            "root",
            "subject",
            "preheader",
            "body",
            "body_html",
            "cta",
            "hashtags",
            "media_notes",
            "check_findings",
            "checks_run_at",
            "override_rationale",
            "decision_rationale",
            "decided_at",
            "generator",
            "created_at",
        ]
        read_only_fields = fields


class LineageEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    depth = serializers.IntegerField()
    generation = serializers.IntegerField()
    state = serializers.CharField()
    variant_of = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class CreativeDetailSerializer(CreativeSerializer):
    lineage = serializers.SerializerMethodField()

    class Meta(CreativeSerializer.Meta):
        fields = [*CreativeSerializer.Meta.fields, "lineage"]
        read_only_fields = fields

    @extend_schema_field(LineageEntrySerializer(many=True))
    def get_lineage(self, obj: CreativeVariant) -> list[dict]:
        return [
            {
                "id": v.pk,
                "depth": depth,
                "generation": v.generation,
                "state": v.state,
                "variant_of": v.variant_of_id,
                "created_at": v.created_at,
            }
            for depth, v in creative_family(obj).walk()
        ]


class GenerateRequestSerializer(serializers.Serializer):
    variants = serializers.IntegerField(min_value=1, max_value=5, default=3)
    platforms = serializers.ListField(
        child=serializers.ChoiceField(choices=Platform.choices),
        required=False,
        help_text="Defaults to every enabled channel of the campaign.",
    )


class DecisionSerializer(serializers.Serializer):
    rationale = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4000,
        help_text="Why. Required to request changes or reject.",
    )
    override_rationale = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4000,
        help_text="Approve despite failing checks: why that is acceptable (recorded in the audit timeline).",
    )


class EditSerializer(serializers.Serializer):
    subject = serializers.CharField(required=False, allow_blank=True, max_length=200)
    preheader = serializers.CharField(required=False, allow_blank=True, max_length=200)
    body = serializers.CharField(required=False, max_length=20000)
    body_html = serializers.CharField(required=False, allow_blank=True, max_length=50000)
    cta = serializers.CharField(required=False, allow_blank=True, max_length=200)
    hashtags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    media_notes = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    rationale = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class PreviewSerializer(serializers.Serializer):
    subject = serializers.CharField()
    preheader = serializers.CharField()
    body = serializers.CharField()
    body_html = serializers.CharField()
    missing = serializers.ListField(child=serializers.CharField())


def _visible_campaign(request: Request, campaign_id: int) -> Campaign:
    return get_object_or_404(campaigns_visible_to(request.user), pk=campaign_id)


_decision_responses = {
    200: CreativeSerializer,
    400: OpenApiResponse(
        BadRequestSerializer, description="Missing rationale, or failing checks without override."
    ),
    403: OpenApiResponse(
        ErrorSerializer,
        description=(
            "The caller's role may not decide (client users: only where the campaign allows client "
            "approval); approving creative that fails its checks is an override, the approver role's."
        ),
    ),
    404: OpenApiResponse(description="No such creative for this client."),
    409: OpenApiResponse(ErrorSerializer, description="The creative's state does not allow this decision."),
}


class CampaignCreativeListView(generics.ListAPIView):
    """Creative variants of one campaign (`?state=`, `?platform=` filter)."""

    serializer_class = CreativeSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("state", enum=CreativeState.values),
            OpenApiParameter("platform", enum=Platform.values),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        campaign = _visible_campaign(self.request, self.kwargs["campaign_id"])
        queryset = creatives_for_campaign(campaign).order_by("brief_id", "root_id", "generation", "id")
        for key in ("state", "platform"):
            value = self.request.query_params.get(key)
            if value:
                queryset = queryset.filter(**{key: value})
        return queryset


class CampaignCreativeGenerateView(APIView):
    write_actions = {"post": "creative.generate"}

    @extend_schema(
        request=GenerateRequestSerializer,
        responses={
            201: CreativeSerializer(many=True),
            400: OpenApiResponse(BadRequestSerializer, description="No approved strategy, or bad input."),
            403: OpenApiResponse(ErrorSerializer, description="Only agency staff generate creative."),
            404: OpenApiResponse(description="No such campaign for this client."),
        },
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        """Generate N variants per platform brief from the approved strategy (staff only)."""
        campaign = _visible_campaign(request, campaign_id)
        body = GenerateRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        created = generate_creatives(campaign=campaign, actor=request.user, **body.validated_data)
        return Response(CreativeSerializer(created, many=True).data, status=status.HTTP_201_CREATED)


class CreativeViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One creative variant with its check findings and its lineage."""

    serializer_class = CreativeDetailSerializer
    write_actions = {
        "approve": "creative.decide",
        "request_changes": "creative.decide",
        "reject": "creative.decide",
        "edit": "creative.edit",
    }

    def get_queryset(self):
        return creatives_visible_to(self.request.user)

    def _decide(self, request: Request, service, *, rationale_only: bool = False) -> Response:
        variant = self.get_object()
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        kwargs = {"rationale": body.validated_data.get("rationale", "")}
        if not rationale_only:
            kwargs["override_rationale"] = body.validated_data.get("override_rationale", "")
        updated = service(variant=variant, actor=request.user, **kwargs)
        return Response(CreativeSerializer(updated).data)

    @extend_schema(request=DecisionSerializer, responses=_decision_responses)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve a creative in review. Failing checks need `override_rationale`."""
        return self._decide(request, approve_creative)

    @extend_schema(request=DecisionSerializer, responses=_decision_responses)
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request: Request, pk: str | None = None) -> Response:
        """Send a creative in review back for changes (rationale required)."""
        return self._decide(request, request_creative_changes, rationale_only=True)

    @extend_schema(request=DecisionSerializer, responses=_decision_responses)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Reject a creative (rationale required)."""
        return self._decide(request, reject_creative, rationale_only=True)

    @extend_schema(
        request=EditSerializer,
        responses={
            200: CreativeSerializer,
            201: CreativeSerializer,
            403: OpenApiResponse(ErrorSerializer, description="Only agency staff edit creative."),
            404: OpenApiResponse(description="Not found"),
        },
    )
    @action(detail=True, methods=["post"])
    def edit(self, request: Request, pk: str | None = None) -> Response:
        """Edit content (staff). An approved, in-review or rejected version is kept as it is and a new
        draft version is answered with 201; drafts change in place (200)."""
        variant = self.get_object()
        body = EditSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        rationale = data.pop("rationale", "")
        updated = edit_creative(variant=variant, actor=request.user, rationale=rationale, **data)
        code = status.HTTP_201_CREATED if updated.pk != variant.pk else status.HTTP_200_OK
        return Response(CreativeSerializer(updated).data, status=code)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "lead", int, description="Render for this lead of the campaign (default: a sample lead)."
            )
        ],
        responses={200: PreviewSerializer, 404: OpenApiResponse(description="No such creative or lead.")},
    )
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, pk: str | None = None) -> Response:
        """Merge fields rendered against a lead of the campaign (`?lead=ID`) or a sample lead."""
        variant = self.get_object()
        context = None
        raw = request.query_params.get("lead")
        if raw:
            if not raw.isdigit():
                raise serializers.ValidationError({"lead": f"Expected a lead id, got {raw!r}."})
            context = lead_context(campaign=variant.campaign, lead_id=int(raw))
            if context is None:
                raise NotFound(f"Lead {raw} is not in campaign {variant.campaign_id}.")
        rendered = render_creative(variant=variant, context=context)
        return Response(PreviewSerializer(rendered).data)
