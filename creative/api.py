"""Client-facing API for creative: list, generate, inspect (findings, lineage, text/HTML differences),
decide, edit, submit for review again, preview for a lead, and send a test to yourself."""

from __future__ import annotations

from dataclasses import asdict

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.api import BadRequestSerializer, ErrorSerializer
from campaigns.models import Campaign
from campaigns.selectors import campaigns_visible_to

from .models import CreativeState, CreativeVariant, Platform
from .selectors import creative_family, creatives_for_campaign, creatives_visible_to
from .services import (
    LeadNotInCampaignError,
    TestSendLimitError,
    approve_creative,
    edit_creative,
    generate_creatives,
    html_differences,
    reject_creative,
    render_for_lead,
    request_creative_changes,
    send_test_email,
    submit_creative_for_review,
)


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.ChoiceField(choices=["error", "warning", "info"])
    message = serializers.CharField()


class HtmlDifferenceSerializer(serializers.Serializer):
    text = serializers.ListField(child=serializers.CharField(), help_text="The text body's lines here.")
    html = serializers.ListField(
        child=serializers.CharField(), help_text="What the HTML part shows here instead."
    )


class CreativeSerializer(serializers.ModelSerializer):
    check_findings = FindingSerializer(many=True, read_only=True)
    brief_pillar = serializers.CharField(source="brief.pillar", read_only=True)
    html_differences = serializers.SerializerMethodField(
        help_text="Where a hand-written HTML part says something else than the text body (empty when "
        "the HTML is derived from the text). Approving needs acknowledge_html_difference then."
    )

    @extend_schema_field(HtmlDifferenceSerializer(many=True))
    def get_html_differences(self, obj: CreativeVariant) -> list[dict]:
        return [d.as_dict() for d in html_differences(obj)]

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
            "html_differences",
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
    acknowledge_html_difference = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Approve an email whose HTML part says something else than its text (see "
        "html_differences): you have read both (recorded with the differing lines).",
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
    html_differences = HtmlDifferenceSerializer(many=True)


class TestSendRequestSerializer(serializers.Serializer):
    lead = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Render for this lead of the campaign (default: a sample lead).",
    )


class TestSendResultSerializer(serializers.Serializer):
    to_email = serializers.EmailField(help_text="Your own address: tests go nowhere else.")
    from_email = serializers.CharField()
    subject = serializers.CharField(help_text='Starts with "[TEST]".')
    lead_id = serializers.IntegerField(allow_null=True)
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
        "submit": "creative.submit",
        "test_send": "creative.test_send",
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
            kwargs["acknowledge_html_difference"] = body.validated_data["acknowledge_html_difference"]
        updated = service(variant=variant, actor=request.user, **kwargs)
        return Response(CreativeSerializer(updated).data)

    @extend_schema(request=DecisionSerializer, responses=_decision_responses)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve a creative in review. Failing checks need `override_rationale`; an HTML part that
        says something else than the text (`html_differences`) needs `acknowledge_html_difference`."""
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
        request=None,
        responses={
            200: CreativeSerializer,
            403: OpenApiResponse(ErrorSerializer, description="Only agency staff submit creative."),
            404: OpenApiResponse(description="No such creative for this client."),
            409: OpenApiResponse(
                ErrorSerializer,
                description="Only a draft or a version with changes requested goes to review.",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """Put a draft (an edited version) or a version with changes requested back in review; its
        checks and risk are assessed again."""
        updated = submit_creative_for_review(variant=self.get_object(), actor=request.user)
        return Response(CreativeSerializer(updated).data)

    def _lead_param(self, raw) -> int | None:
        if raw in (None, ""):
            return None
        text = str(raw)
        if not text.isdigit():
            raise serializers.ValidationError({"lead": f"Expected a lead id, got {text!r}."})
        return int(text)

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
        """Merge fields rendered against a lead of the campaign (`?lead=ID`) or a sample lead, with the
        context a real send to that lead would use."""
        variant = self.get_object()
        try:
            rendered = render_for_lead(
                variant=variant, lead_id=self._lead_param(request.query_params.get("lead"))
            )
        except LeadNotInCampaignError as exc:
            raise NotFound(str(exc)) from exc
        data = {**asdict(rendered), "html_differences": [d.as_dict() for d in html_differences(variant)]}
        return Response(PreviewSerializer(data).data)

    @extend_schema(
        request=TestSendRequestSerializer,
        responses={
            200: TestSendResultSerializer,
            400: OpenApiResponse(
                BadRequestSerializer,
                description="Not an email, your user has no email address, the system pause is on, or the "
                "email backend refused it.",
            ),
            403: OpenApiResponse(ErrorSerializer, description="Only agency staff send tests."),
            404: OpenApiResponse(description="No such creative, or the lead is not in its campaign."),
            429: OpenApiResponse(
                description="CREATIVE_TEST_SENDS_PER_HOUR reached; Retry-After says when to try again."
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="test-send")
    def test_send(self, request: Request, pk: str | None = None) -> Response:
        """Send this email, rendered for a lead (`lead`) or the sample lead, to your own address
        through the campaign's sending path, marked as a test (`[TEST]` subject, `X-AICMO-Test`
        header). Never outreach: no message, cap, budget or metrics; the audit timeline records it."""
        variant = self.get_object()
        body = TestSendRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            result = send_test_email(
                variant=variant, actor=request.user, lead_id=body.validated_data.get("lead")
            )
        except LeadNotInCampaignError as exc:
            raise NotFound(str(exc)) from exc
        except TestSendLimitError as exc:
            raise Throttled(wait=exc.details.get("retry_after"), detail=str(exc)) from exc
        return Response(TestSendResultSerializer(asdict(result)).data)
