"""Links from the campaign change page to the work of the apps above ``campaigns`` (strategy,
creative, leads, outreach, reporting), so an operator reaches every step from one page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .models import Campaign


@dataclass(frozen=True)
class CampaignAdminLink:
    """One link on the campaign change page, e.g. ("Compare strategies (batch 2)", url).

    ``key`` is stable (the element id is ``campaign-link-<key>``); ``note`` is a short fact shown
    after the link ("3 in review")."""

    key: str
    label: str
    url: str
    note: str = ""


CampaignAdminLinkProvider = Callable[[HttpRequest, Campaign], list[CampaignAdminLink]]
_campaign_link_providers: dict[str, tuple[int, CampaignAdminLinkProvider]] = {}


def register_campaign_admin_links(section: str, provider: CampaignAdminLinkProvider, *, order: int) -> None:
    """Apps above ``campaigns`` put their pages for a campaign on its change page.

    ``provider(request, campaign)`` returns the links this user may follow (check permissions
    there). Called from the app's admin module, which the admin imports once at start-up;
    registering a section again replaces it."""
    _campaign_link_providers[section] = (order, provider)


def campaign_admin_link_sections(request: HttpRequest, campaign: Campaign) -> list[dict]:
    sections = []
    for section, (_, provider) in sorted(_campaign_link_providers.items(), key=lambda item: item[1][0]):
        links = provider(request, campaign)
        if links:
            sections.append({"name": section, "links": links})
    return sections


def safe_next(request: HttpRequest, default: str) -> str:
    """The POSTed ``next`` page when it is on this site, else ``default``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def wizard_brief_url(request: HttpRequest, campaign: Campaign) -> str:
    """The strategy brief form for a new campaign, when this user may write it (URL by name:
    ``strategy`` sits above ``campaigns``)."""
    if not request.user.has_perm("strategy.add_brief"):
        return ""
    try:
        return f"{reverse('admin:strategy_brief_add')}?campaign={campaign.pk}"
    except NoReverseMatch:
        return ""
