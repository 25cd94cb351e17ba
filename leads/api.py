"""Client-facing API for leads: list a campaign's leads, import a CSV, add suppressions."""

from __future__ import annotations

import tempfile

from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.models import Campaign, Client
from campaigns.selectors import campaigns_visible_to, clients_visible_to

from .importers import import_lead_records, import_leads_from_csv, lead_import_report
from .models import Lead, LeadSource, LeadState, Suppression, SuppressionReason
from .selectors import contactable_leads, suppressed_leads, suppressions_visible_to
from .services import add_suppression

SCORE_BANDS = {"high": (0.7, 1.01), "medium": (0.4, 0.7), "low": (0.0, 0.4)}


class CSVBodyParser(BaseParser):
    """A raw ``text/csv`` body, spooled to disk past 1 MB so a large upload never sits in memory."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        spooled = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 (the importer reads it later)
        if stream is not None:
            while chunk := stream.read(256 * 1024):
                spooled.write(chunk)
        spooled.seek(0)
        return {"file": spooled}


class LeadSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lead
        fields = [
            "id",
            "campaign",
            "email",
            "normalized_email",
            "first_name",
            "last_name",
            "title",
            "company",
            "company_size",
            "industry",
            "country",
            "timezone",
            "linkedin_url",
            "source",
            "enrichment",
            "score",
            "next_action_at",
            "state",
            "state_reason",
            "created_at",
        ]
        read_only_fields = fields


ImportReportSerializer = inline_serializer(
    "LeadImportReport",
    {
        "id": serializers.IntegerField(),
        "status": serializers.CharField(),
        "rows_read": serializers.IntegerField(),
        "inserted": serializers.IntegerField(),
        "duplicates_in_file": serializers.IntegerField(),
        "duplicates_in_campaign": serializers.IntegerField(),
        "suppressed": serializers.IntegerField(),
        "invalid": serializers.IntegerField(),
        "blank_lines": serializers.IntegerField(),
        "issues_total": serializers.IntegerField(),
        "issues": serializers.ListField(child=serializers.DictField()),
    },
)


class CampaignLeadViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Leads of one campaign of the caller's client (another client's campaign is a 404)."""

    serializer_class = LeadSerializer
    lookup_value_regex = r"\d+"

    def get_campaign(self) -> Campaign:
        if not hasattr(self, "_campaign"):
            self._campaign = get_object_or_404(
                campaigns_visible_to(self.request.user).select_related("client"),
                pk=self.kwargs["campaign_id"],
            )
        return self._campaign

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no campaign
            return Lead.objects.none()
        leads = Lead.objects.filter(campaign=self.get_campaign()).order_by("-score", "id")
        params = self.request.query_params
        if state := params.get("state"):
            states = [s for s in state.split(",") if s]
            unknown = set(states) - set(LeadState.values)
            if unknown:
                raise ValidationError(
                    {"state": f"Unknown states {sorted(unknown)}; known: {LeadState.values}."}
                )
            leads = leads.filter(state__in=states)
        if source := params.get("source"):
            leads = leads.filter(source=source)
        if band := params.get("score_band"):
            if band not in SCORE_BANDS:
                raise ValidationError({"score_band": f"Expected one of {sorted(SCORE_BANDS)}."})
            low, high = SCORE_BANDS[band]
            leads = leads.filter(score__gte=low, score__lt=high)
        for name, lookup in (("min_score", "score__gte"), ("max_score", "score__lte")):
            if (value := params.get(name)) is not None:
                try:
                    leads = leads.filter(**{lookup: float(value)})
                except ValueError as exc:
                    raise ValidationError({name: "Expected a number between 0 and 1."}) from exc
        if (flag := params.get("contactable")) is not None:
            campaign = self.get_campaign()
            wanted = contactable_leads(Lead.objects.filter(campaign=campaign), campaign=campaign).values("pk")
            leads = (
                leads.filter(pk__in=wanted)
                if flag.lower() in ("1", "true", "yes")
                else leads.exclude(pk__in=wanted)
            )
        if (flag := params.get("suppressed")) is not None:
            hit = suppressed_leads(Lead.objects.filter(campaign=self.get_campaign())).values("pk")
            leads = (
                leads.filter(pk__in=hit)
                if flag.lower() in ("1", "true", "yes")
                else leads.exclude(pk__in=hit)
            )
        if q := params.get("q"):
            leads = leads.filter(
                Q(normalized_email__icontains=q.lower()) | Q(company__icontains=q) | Q(last_name__icontains=q)
            )
        return leads

    @extend_schema(
        parameters=[
            OpenApiParameter("state", description="Comma-separated lead states."),
            OpenApiParameter("source", enum=LeadSource.values),
            OpenApiParameter("score_band", enum=sorted(SCORE_BANDS)),
            OpenApiParameter("min_score", float),
            OpenApiParameter("max_score", float),
            OpenApiParameter(
                "contactable", bool, description="Only leads outreach may (or may not) contact."
            ),
            OpenApiParameter("suppressed", bool),
            OpenApiParameter("q", description="Search in email, company, last name."),
        ]
    )
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=inline_serializer(
            "LeadPush",
            {
                "leads": serializers.ListField(
                    child=serializers.DictField(),
                    max_length=10_000,
                    help_text="Objects keyed by lead field: email (required), first_name, last_name, "
                    "title, company, company_size, industry, country, timezone, linkedin_url.",
                )
            },
        ),
        responses={201: ImportReportSerializer, 404: OpenApiResponse(description="No such campaign.")},
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        """API push: up to 10,000 leads as JSON, through the same checks as a CSV import (validation,
        dedup, suppression). Answers with the import report; rejected rows are numbered from 1."""
        campaign = self.get_campaign()
        leads = request.data.get("leads") if isinstance(request.data, dict) else None
        if not isinstance(leads, list) or not all(isinstance(item, dict) for item in leads):
            raise ValidationError({"leads": 'Send {"leads": [{"email": "…", …}, …]}.'})
        if len(leads) > 10_000:
            raise ValidationError({"leads": "At most 10,000 leads per request; upload a CSV for more."})
        lead_import = import_lead_records(campaign=campaign, records=leads, actor=request.user)
        return Response(lead_import_report(lead_import), status=status.HTTP_201_CREATED)

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "LeadImportUpload",
                {"file": serializers.FileField(), "mapping": serializers.CharField(required=False)},
            ),
            "text/csv": {"type": "string", "format": "binary"},
        },
        parameters=[OpenApiParameter("mapping", description="FIELD=COLUMN pairs, e.g. email=Work Email")],
        responses={
            201: ImportReportSerializer,
            400: OpenApiResponse(description="No file, or a file without an email column."),
            404: OpenApiResponse(description="No such campaign for this client."),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser, CSVBodyParser],
    )
    def import_csv(self, request: Request, campaign_id: str | None = None) -> Response:
        """Import a CSV (multipart ``file`` or a ``text/csv`` body). Answers with the import report:
        counts and the first 100 rejected rows (row number, field, reason)."""
        campaign = self.get_campaign()
        upload = request.data.get("file")
        if upload is None or isinstance(upload, str):
            raise ValidationError(
                {"file": "Send the CSV as a multipart field named file, or as a text/csv body."}
            )
        mapping = request.data.get("mapping") or request.query_params.get("mapping") or None
        lead_import = import_leads_from_csv(
            campaign=campaign,
            file=upload,
            filename=getattr(upload, "name", "") or "",
            mapping=mapping if isinstance(mapping, str) else None,
            actor=request.user,
        )
        return Response(lead_import_report(lead_import), status=status.HTTP_201_CREATED)


class SuppressionSerializer(serializers.ModelSerializer):
    email = serializers.CharField(write_only=True, required=False, max_length=320)
    domain = serializers.CharField(write_only=True, required=False, max_length=253)
    reason = serializers.ChoiceField(
        choices=[c for c in SuppressionReason.choices if c[0] != SuppressionReason.ERASED]
    )
    client = serializers.PrimaryKeyRelatedField(
        queryset=Client.objects.all(),
        required=False,
        allow_null=True,
        help_text="Staff only: the client the entry is for; empty for a global entry. "
        "Client users always suppress for their own client.",
    )

    class Meta:
        model = Suppression
        fields = [
            "id",
            "email",
            "domain",
            "kind",
            "value",
            "reason",
            "source",
            "note",
            "client",
            "created_at",
        ]
        read_only_fields = ["id", "kind", "value", "created_at"]

    def validate(self, attrs):
        if bool(attrs.get("email")) == bool(attrs.get("domain")):
            raise ValidationError({"email": "Give either email or domain (not both)."})
        return attrs


class SuppressionViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Do-not-contact entries: the caller's client's and the global ones."""

    serializer_class = SuppressionSerializer

    def get_queryset(self):
        return suppressions_visible_to(self.request.user)

    def perform_create(self, serializer: SuppressionSerializer) -> None:
        user = self.request.user
        data = serializer.validated_data
        if user.is_staff:
            client = data.get("client")
        else:
            client = get_object_or_404(clients_visible_to(user))
            requested = data.get("client")
            if requested is not None and requested.pk != client.pk:
                raise ValidationError({"client": "Client users can only suppress for their own client."})
        serializer.instance = add_suppression(
            reason=data["reason"],
            email=data.get("email"),
            domain=data.get("domain"),
            client=client,
            source=data.get("source") or "api",
            note=data.get("note", ""),
            actor=user,
        )
