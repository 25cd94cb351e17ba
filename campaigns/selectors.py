"""Read queries other apps and the API use. Scoping by client lives here, in one place."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import TRANSITION_ORDER, AuditEvent, Campaign, CampaignState, Client, User


def clients_visible_to(user: User) -> QuerySet[Client]:
    if not user.is_authenticated:
        return Client.objects.none()
    if user.is_staff:
        return Client.objects.all()
    if user.client_id:
        return Client.objects.filter(pk=user.client_id)
    return Client.objects.none()


def campaigns_visible_to(user: User) -> QuerySet[Campaign]:
    """Staff see every campaign; a client user only their client's; anyone else nothing."""
    if not user.is_authenticated:
        return Campaign.objects.none()
    if user.is_staff:
        return Campaign.objects.all()
    if user.client_id:
        return Campaign.objects.filter(client_id=user.client_id)
    return Campaign.objects.none()


def active_campaigns() -> QuerySet[Campaign]:
    return Campaign.objects.filter(state=CampaignState.ACTIVE)


def campaign_timeline(campaign: Campaign) -> QuerySet[AuditEvent]:
    return (
        AuditEvent.objects.filter(campaign=campaign)
        .select_related("actor", "target_type")
        .order_by("created_at", "id")
    )


def available_transitions(campaign: Campaign) -> list[str]:
    """Names of the lifecycle transitions possible from the campaign's current state."""
    names = {t.name for t in campaign.get_available_state_transitions()}
    return [name for name in TRANSITION_ORDER if name in names]
