"""Deliverables API: a campaign's delivery packages, building one on demand, and the download
behind each package's short-lived signed link.

Every route is scoped by ``campaigns_visible_to``: another client's campaign, package or link is a
404, whether the link is fresh or expired.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.api import ErrorSerializer
from campaigns.selectors import campaigns_visible_to

from .links import download_token, link_expires_at, read_token
from .models import DeliveryPackage
from .selectors import packages_of
from .services import build_delivery_package, record_package_download
from .storage import deliverables_storage

# No body documented: a path that is not a number is Django's own 404 page, before any view.
NOT_FOUND = OpenApiResponse(description="No such campaign (or package) for this client.")
CONTENT_TYPES = {"pdf": "application/pdf", "zip": "application/zip"}


class DeliveryPackageSerializer(serializers.ModelSerializer):
    pdf_link = serializers.SerializerMethodField(help_text="Signed download link of the PDF (short-lived).")
    zip_link = serializers.SerializerMethodField(help_text="Signed download link of the ZIP of CSV files.")
    links_expire_at = serializers.SerializerMethodField()

    class Meta:
        model = DeliveryPackage
        fields = [
            "id",
            "campaign",
            "version",
            "milestone",
            "created_at",
            "pdf_bytes",
            "archive_bytes",
            "contents",
            "pdf_link",
            "zip_link",
            "links_expire_at",
        ]
        read_only_fields = fields

    def _link(self, package: DeliveryPackage, kind: str) -> str:
        request = self.context["request"]
        path = reverse("campaign-package-download", args=[package.campaign_id])
        query = urlencode({"token": download_token(package.pk, kind)})
        return request.build_absolute_uri(f"{path}?{query}")

    @extend_schema_field(OpenApiTypes.URI)
    def get_pdf_link(self, package: DeliveryPackage) -> str:
        return self._link(package, "pdf")

    @extend_schema_field(OpenApiTypes.URI)
    def get_zip_link(self, package: DeliveryPackage) -> str:
        return self._link(package, "zip")

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_links_expire_at(self, package: DeliveryPackage) -> str:
        return link_expires_at().isoformat()


def _campaign_for(request: Request, campaign_id: int):
    return get_object_or_404(campaigns_visible_to(request.user), pk=campaign_id)


class CampaignPackagesView(generics.ListAPIView):
    serializer_class = DeliveryPackageSerializer
    write_actions = {"post": "package.build"}  # who may: campaigns.permissions

    def get_queryset(self):
        campaign = _campaign_for(self.request, self.kwargs["campaign_id"])
        return packages_of(campaign)

    @extend_schema(responses={200: DeliveryPackageSerializer(many=True), 404: NOT_FOUND})
    def get(self, request: Request, *args, **kwargs) -> Response:
        """The campaign's delivery packages, newest version first, each with signed download links."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=None,
        responses={
            201: DeliveryPackageSerializer,
            403: OpenApiResponse(ErrorSerializer, description="Only agency staff build packages."),
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        """Build the next version of the campaign's package now (approved strategy, plan, calendar,
        creative and the decision record as a PDF; calendar and creative as CSV in a ZIP)."""
        campaign = _campaign_for(request, campaign_id)
        package = build_delivery_package(campaign=campaign, actor=request.user)
        data = DeliveryPackageSerializer(package, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)


class PackageDownloadView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "token",
                str,
                required=True,
                description="The signed token of a package's pdf_link or zip_link.",
            )
        ],
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "application/zip"): OpenApiTypes.BINARY,
            404: NOT_FOUND,
            410: OpenApiResponse(
                ErrorSerializer, description="The link expired: list the packages for a new one."
            ),
        },
    )
    def get(self, request: Request, campaign_id: int):
        """The file a signed link names. The link works only for users who may see the campaign,
        and only for a short time (AICMO_DELIVERABLES_LINK_SECONDS)."""
        campaign = _campaign_for(request, campaign_id)
        target = read_token(request.query_params.get("token", ""))
        if target is None:
            raise NotFound("No such package link.")
        package = DeliveryPackage.objects.filter(pk=target.package_id, campaign=campaign).first()
        if package is None:
            raise NotFound("No such package link.")
        if target.expired:
            return Response(
                {
                    "detail": "This download link expired; list the campaign's packages for a new one.",
                    "code": "link_expired",
                },
                status=status.HTTP_410_GONE,
            )
        field = package.pdf if target.kind == "pdf" else package.archive
        record_package_download(package=package, kind=target.kind, actor=request.user)
        filename = f"{campaign.client.slug}-campaign-{campaign.pk}-package-v{package.version}.{target.kind}"
        return FileResponse(
            deliverables_storage().open(field.name, "rb"),
            as_attachment=True,
            filename=filename,
            content_type=CONTENT_TYPES[target.kind],
        )
