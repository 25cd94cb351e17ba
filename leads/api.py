"""Client-facing API for leads: list a campaign's leads, import a CSV, add suppressions."""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.core.files import File
from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.api import BadRequestSerializer
from campaigns.limits import MAX_PUSH_ROWS, MAX_UPLOAD_BYTES, InputLimitExceededError, input_limit
from campaigns.models import Campaign, Client
from campaigns.selectors import campaigns_visible_to, clients_visible_to

from .importers import (
    IMPORTABLE_FIELDS,
    PREVIEW_ROWS,
    import_lead_records,
    import_leads_from_csv,
    lead_import_report,
    preview_csv,
)
from .models import EMAIL_MAX_LENGTH, Lead, LeadSource, LeadState, Suppression, SuppressionReason
from .normalization import InvalidEmailError, normalize_email
from .selectors import (
    contactable_leads,
    is_suppressed,
    suppressed_leads,
    suppressions_of_address,
    suppressions_visible_to,
)
from .services import add_suppression

SCORE_BANDS = {"high": (0.7, 1.01), "medium": (0.4, 0.7), "low": (0.0, 0.4)}


def _is_true(value) -> bool:
    return isinstance(value, str) and value.strip().lower() in ("1", "true", "yes")


class CSVBodyParser(BaseParser):
    """A raw ``text/csv`` body, spooled to disk past 1 MB so a large upload never sits in memory,
    and cut at AICMO_MAX_UPLOAD_BYTES as it streams. Handed on as a nameless ``File`` (the spooled
    file's own ``name`` is an int, a file descriptor, once it has rolled over to disk)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        maximum = input_limit(MAX_UPLOAD_BYTES)
        spooled = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 (the importer reads it later)
        received = 0
        if stream is not None:
            while chunk := stream.read(256 * 1024):
                received += len(chunk)
                if received > maximum:
                    spooled.close()
                    raise InputLimitExceededError(
                        f"The CSV body is more than {maximum:,} bytes; at most {maximum:,} are accepted.",
                        limit=MAX_UPLOAD_BYTES,
                    )
                spooled.write(chunk)
        spooled.seek(0)
        return {"file": File(spooled, name="")}


class LeadSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lead
        fields = [
            "id",
            "campaign",
            "email",
            "normalized_email",
            *IMPORTABLE_FIELDS,  # the lead's own descriptive fields, as files fill them
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
        "rejected": serializers.IntegerField(help_text="Rows not inserted (the four counts above)."),
        "flagged": serializers.IntegerField(
            help_text="Leads inserted with a value left empty (country not recognised, too long…)."
        ),
        "blank_lines": serializers.IntegerField(),
        "issues_total": serializers.IntegerField(help_text="Rejected rows' issues."),
        "issues": serializers.ListField(
            child=serializers.DictField(),
            help_text="The first rejected rows: row_number, kind, field, reason, value.",
        ),
        "warnings_total": serializers.IntegerField(help_text="Flagged values of inserted leads."),
        "warnings": serializers.ListField(
            child=serializers.DictField(),
            help_text='The first flagged values (kind "flagged"): the lead was imported, the field empty.',
        ),
    },
)

ImportPreviewSerializer = inline_serializer(
    "LeadImportPreview",
    {
        "filename": serializers.CharField(),
        "encoding": serializers.CharField(),
        "delimiter": serializers.CharField(),
        "delimiter_name": serializers.CharField(),
        "header": serializers.ListField(child=serializers.CharField()),
        "mapping": serializers.DictField(child=serializers.CharField(), help_text="Lead field → column."),
        "ignored_columns": serializers.ListField(child=serializers.CharField()),
        "fields": serializers.ListField(child=serializers.CharField()),
        "rows": serializers.ListField(
            child=serializers.DictField(),
            help_text="row_number, email, values (as imported), flagged ({field: {value, reason}}), "
            'outcome ("new" or why the row would be kept out) and reason.',
        ),
        "more_rows": serializers.BooleanField(),
    },
)


class CampaignLeadViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Leads of one campaign of the caller's client (another client's campaign is a 404)."""

    serializer_class = LeadSerializer
    lookup_value_regex = r"\d+"
    write_actions = {"create": "leads.add", "import_csv": "leads.import"}  # campaigns.permissions

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
                    max_length=settings.AICMO_MAX_PUSH_ROWS,
                    help_text="Objects keyed by lead field: email (required), first_name, last_name, "
                    "title, company, company_size, industry, country, timezone, linkedin_url.",
                )
            },
        ),
        responses={
            201: ImportReportSerializer,
            400: OpenApiResponse(
                BadRequestSerializer,
                description="No leads list, or more leads than AICMO_MAX_PUSH_ROWS (then with limit "
                "and max), or JSON nested deeper than AICMO_MAX_JSON_DEPTH.",
            ),
            404: OpenApiResponse(description="No such campaign."),
        },
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        """API push: up to AICMO_MAX_PUSH_ROWS leads (10,000 by default) as JSON, through the same
        checks as a CSV import (validation, dedup, suppression). Answers with the import report;
        rejected rows are numbered from 1."""
        campaign = self.get_campaign()
        leads = request.data.get("leads") if isinstance(request.data, dict) else None
        if not isinstance(leads, list) or not all(isinstance(item, dict) for item in leads):
            raise ValidationError({"leads": 'Send {"leads": [{"email": "…", …}, …]}.'})
        if len(leads) > (maximum := input_limit(MAX_PUSH_ROWS)):
            raise InputLimitExceededError(
                f"{len(leads):,} leads sent; at most {maximum:,} per request. Upload a CSV for more.",
                limit=MAX_PUSH_ROWS,
                code="too_many_rows",
                http_status=400,
            )
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
        parameters=[
            OpenApiParameter("mapping", description="FIELD=COLUMN pairs, e.g. email=Work Email"),
            OpenApiParameter(
                "dry_run",
                bool,
                description="true: import nothing; answer 200 with the columns detected and the first "
                f"{PREVIEW_ROWS} rows as they would be imported (flagged values marked).",
            ),
        ],
        responses={
            200: OpenApiResponse(ImportPreviewSerializer, description="dry_run=true: the preview."),
            201: ImportReportSerializer,
            400: OpenApiResponse(
                BadRequestSerializer,
                description="No file, a file without an email column, or a row with more cells than "
                "AICMO_MAX_CSV_COLUMNS or a cell longer than AICMO_MAX_CSV_CELL_CHARS (then with "
                "limit and max).",
            ),
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
        counts, the first 100 rejected rows (row number, field, reason) and, apart from them, the
        first 100 flagged values (leads imported with a country, time zone or over-long value left
        empty). With ``dry_run=true`` nothing is imported: the answer (200) is the preview."""
        campaign = self.get_campaign()
        upload = request.data.get("file")
        if upload is None or isinstance(upload, str):
            raise ValidationError(
                {"file": "Send the CSV as a multipart field named file, or as a text/csv body."}
            )
        mapping = request.data.get("mapping") or request.query_params.get("mapping") or None
        filename = getattr(upload, "name", "")
        if _is_true(request.query_params.get("dry_run") or request.data.get("dry_run")):
            preview = preview_csv(
                campaign=campaign,
                file=upload,
                filename=filename if isinstance(filename, str) else "",
                mapping=mapping if isinstance(mapping, str) else None,
            )
            return Response(preview.as_data(), status=status.HTTP_200_OK)
        lead_import = import_leads_from_csv(
            campaign=campaign,
            file=upload,
            filename=filename if isinstance(filename, str) else "",
            mapping=mapping if isinstance(mapping, str) else None,
            actor=request.user,
        )
        return Response(lead_import_report(lead_import), status=status.HTTP_201_CREATED)


class SuppressionSerializer(serializers.ModelSerializer):
    email = serializers.CharField(write_only=True, required=False, max_length=320)
    domain = serializers.CharField(write_only=True, required=False, max_length=253)
    # Every reason can be read (staff see erasures); add_suppression refuses "erased" (erasure's own).
    reason = serializers.ChoiceField(choices=SuppressionReason.choices)
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


class SuppressionCheckQuerySerializer(serializers.Serializer):
    email = serializers.CharField(max_length=EMAIL_MAX_LENGTH, help_text="The address to look up.")
    client = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Staff only: check for this client (its entries and the global ones); without it, "
        "staff check the global entries. Client users always check for their own client.",
    )

    def validate_email(self, value: str) -> str:
        try:
            return normalize_email(value)
        except InvalidEmailError as exc:
            raise ValidationError(str(exc)) from exc


class SuppressionCheckSerializer(serializers.Serializer):
    email = serializers.CharField(help_text="The address as normalized for matching.")
    suppressed = serializers.BooleanField(
        help_text="Outreach skips this address for the client: an entry of the client's, or a global "
        "one, matches the address, its domain, or (after an erasure) its digest."
    )
    entries = SuppressionSerializer(
        many=True,
        help_text="The matching entries the caller may read: a client user's own only (a global "
        "entry shows only as suppressed=true); staff every matching entry.",
    )


class SuppressionViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Do-not-contact entries. A client user lists and adds only their own client's entries; a
    global entry (hard bounce, erasure) is not listed for them (it names other clients' leads and
    carries the ESP's text): ``check/`` tells whether an address is suppressed for them, global
    entries included. Staff see every entry."""

    serializer_class = SuppressionSerializer
    write_actions = {"create": "suppression.add"}  # who may: campaigns.permissions

    def get_queryset(self):
        return suppressions_visible_to(self.request.user)

    @extend_schema(
        parameters=[SuppressionCheckQuerySerializer],
        responses={
            200: SuppressionCheckSerializer,
            400: OpenApiResponse(description="No email, an invalid one, or an unknown or foreign client."),
            404: OpenApiResponse(description="The caller belongs to no client."),
        },
    )
    @action(detail=False, methods=["get"], url_path="check")
    def check(self, request: Request) -> Response:
        """Is this address suppressed for the caller's client? ``suppressed`` counts global entries
        too; ``entries`` lists only the matching entries the caller may read (a client user's own;
        staff: all)."""
        query = SuppressionCheckQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        user = request.user
        requested = query.validated_data.get("client")
        if user.is_staff:
            if requested is not None and not Client.objects.filter(pk=requested).exists():
                raise ValidationError({"client": f"No client {requested}."})
            client_id = requested
        else:
            client_id = get_object_or_404(clients_visible_to(user)).pk
            if requested is not None and requested != client_id:
                raise ValidationError({"client": "Client users can only check for their own client."})
        normalized = query.validated_data["email"]
        readable = suppressions_visible_to(user)
        if client_id is not None:
            readable = readable.filter(Q(client_id=client_id) | Q(client__isnull=True))
        entries = suppressions_of_address(readable, normalized_email=normalized)
        answer = {
            "email": normalized,
            "suppressed": is_suppressed(client_id=client_id, normalized_email=normalized),
            "entries": SuppressionSerializer(entries, many=True).data,
        }
        return Response(answer)

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
