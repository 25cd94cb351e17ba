"""Read-only API of the reply inbox: a campaign's replies, for its client's users and agency staff
(scoped like every campaign endpoint: another client's campaign is a 404)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError

from campaigns.selectors import campaigns_visible_to

from ..models import InboundReply
from ..replies.categories import ReplyCategory

__all__ = ["CampaignReplyListView"]


class InboundReplySerializer(serializers.ModelSerializer):
    class Meta:
        model = InboundReply
        fields = [
            "id",
            "campaign",
            "message",
            "from_email",
            "subject",
            "text",
            "category",
            "category_reason",
            "confidence",
            "corrected",
            "return_date",
            "referred_email",
            "is_auto_reply",
            "matched_by",
            "sender_match",
            "received_at",
            "handled_at",
            "truncated",
            "size_note",
        ]
        read_only_fields = fields


class CampaignReplyListView(generics.ListAPIView):
    """Replies to one campaign's emails, newest first (`?category=`, `?handled=true|false`)."""

    serializer_class = InboundReplySerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("category", enum=ReplyCategory.values),
            OpenApiParameter("handled", enum=["true", "false"]),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        campaign = get_object_or_404(campaigns_visible_to(self.request.user), pk=self.kwargs["campaign_id"])
        queryset = InboundReply.objects.filter(campaign=campaign)
        category = self.request.query_params.get("category")
        if category:
            if category not in ReplyCategory.values:
                raise ValidationError({"category": f"Use one of {', '.join(ReplyCategory.values)}."})
            queryset = queryset.filter(category=category)
        handled = self.request.query_params.get("handled")
        if handled in ("true", "false"):
            queryset = queryset.filter(handled_at__isnull=handled == "false")
        elif handled:
            raise ValidationError({"handled": "Use handled=true or handled=false."})
        return queryset.order_by("-received_at", "-id")
