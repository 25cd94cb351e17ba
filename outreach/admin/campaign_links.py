"""Outreach's steps on the campaign page: sequences (email) and operator tasks (manual channels)."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpRequest
from django.urls import reverse

from campaigns.admin_links import CampaignAdminLink, register_campaign_admin_links
from campaigns.models import Campaign

from ..models import InboundReply, Message, SendResolution, Sequence
from ..models.operator_tasks import OPEN_TASK_STATES, OperatorTask
from .cycle_preview import may_preview_cycle, preview_url


def _filtered(url_name: str, campaign: Campaign) -> str:
    return f"{reverse(url_name)}?campaign__id__exact={campaign.pk}"


def campaign_outreach_links(request: HttpRequest, campaign: Campaign) -> list[CampaignAdminLink]:
    user = request.user
    links: list[CampaignAdminLink] = []
    if user.has_perm("outreach.add_sequence") and not campaign.is_final:
        links.append(
            CampaignAdminLink(
                key="outreach-new-sequence",
                label="New email sequence",
                url=f"{reverse('admin:outreach_sequence_new')}?campaign={campaign.pk}",
            )
        )
    if user.has_perm("outreach.view_sequence"):
        sequences = Sequence.objects.filter(campaign=campaign).count()
        if sequences:
            links.append(
                CampaignAdminLink(
                    key="outreach-sequences",
                    label="Sequences",
                    url=_filtered("admin:outreach_sequence_changelist", campaign),
                    note=str(sequences),
                )
            )
    if may_preview_cycle(request) and not campaign.is_final:
        # Read only: what the next cycle would send, when (campaign time) and from which mailbox.
        links.append(
            CampaignAdminLink(
                key="outreach-preview-cycle", label="Preview next cycle", url=preview_url(campaign)
            )
        )
    if user.has_perm("outreach.view_message") and Sequence.objects.filter(campaign=campaign).exists():
        links.append(
            CampaignAdminLink(
                key="outreach-messages",
                label="Messages",
                url=_filtered("admin:outreach_message_changelist", campaign),
            )
        )
    if user.has_perm("outreach.view_message"):
        # Sends a crash interrupted and no provider event confirmed: counted as sent after the
        # window (OUTREACH_UNKNOWN_RESOLVE_SECONDS). An operator may want to check them with the ESP.
        assumed = Message.objects.filter(campaign=campaign, send_resolution=SendResolution.ASSUMED).count()
        if assumed:
            links.append(
                CampaignAdminLink(
                    key="outreach-assumed-sent",
                    label="Sent without provider confirmation",
                    url=f"{_filtered('admin:outreach_message_changelist', campaign)}"
                    f"&send_resolution__exact={SendResolution.ASSUMED}",
                    note=str(assumed),
                )
            )
    if user.has_perm("outreach.change_operatortask") and not campaign.is_final:
        links.append(
            CampaignAdminLink(
                key="outreach-generate-tasks",
                label="Generate operator tasks",
                url=f"{reverse('admin:outreach_operatortask_generate')}?campaign={campaign.pk}",
            )
        )
    if user.has_perm("outreach.view_operatortask"):
        open_tasks = OperatorTask.objects.filter(campaign=campaign, state__in=OPEN_TASK_STATES).count()
        links.append(
            CampaignAdminLink(
                key="outreach-tasks",
                label="Operator tasks",
                url=_filtered("admin:outreach_operatortask_changelist", campaign),
                note=f"{open_tasks} open",
            )
        )
    if user.has_perm("outreach.view_inboundreply"):
        replies = InboundReply.objects.filter(campaign=campaign).aggregate(
            total=Count("id"),
            unhandled=Count("id", filter=Q(handled_at__isnull=True)),
            corrected=Count("id", filter=Q(corrected=True)),
        )
        if replies["total"]:
            # How often an operator corrected the classifier: its accuracy on this campaign's mail.
            links.append(
                CampaignAdminLink(
                    key="outreach-replies",
                    label="Replies (inbox)",
                    url=_filtered("admin:outreach_inboundreply_changelist", campaign),
                    note=f"{replies['unhandled']} unhandled; classifier corrected "
                    f"{replies['corrected']} of {replies['total']}",
                )
            )
    return links


register_campaign_admin_links("Outreach", campaign_outreach_links, order=35)
