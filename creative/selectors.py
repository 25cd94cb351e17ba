"""Read queries for the API, the admin and other apps (outreach reads approved creative here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

from campaigns.models import Campaign, User
from campaigns.selectors import campaigns_visible_to

from .models import CreativeBrief, CreativeState, CreativeVariant


def creatives_visible_to(user: User) -> QuerySet[CreativeVariant]:
    return CreativeVariant.objects.filter(campaign__in=campaigns_visible_to(user)).select_related(
        "campaign", "brief", "decided_by"
    )


def creatives_for_campaign(campaign: Campaign) -> QuerySet[CreativeVariant]:
    return CreativeVariant.objects.filter(campaign=campaign).select_related("brief")


def approved_creatives(campaign: Campaign | int, platform: str | None = None) -> QuerySet[CreativeVariant]:
    qs = CreativeVariant.objects.filter(campaign=campaign, state=CreativeState.APPROVED)
    return qs.filter(platform=platform) if platform else qs


def briefs_for_campaign(campaign: Campaign) -> QuerySet[CreativeBrief]:
    return CreativeBrief.objects.filter(campaign=campaign).order_by("-id")


@dataclass
class LineageNode:
    variant: CreativeVariant
    children: list[LineageNode] = field(default_factory=list)

    def walk(self, depth: int = 0):
        yield depth, self.variant
        for child in self.children:
            yield from child.walk(depth + 1)


def creative_family(variant: CreativeVariant) -> LineageNode:
    """The whole family tree of a variant (its root and every edit of it), in one query."""
    root_id = variant.root_id or variant.pk
    members = list(
        CreativeVariant.objects.filter(root_id=root_id)
        .select_related("decided_by")
        .order_by("generation", "id")
    )
    nodes = {m.pk: LineageNode(m) for m in members}
    top = nodes.get(root_id) or LineageNode(variant)
    for member in members:
        if member.variant_of_id and member.variant_of_id in nodes:
            nodes[member.variant_of_id].children.append(nodes[member.pk])
    return top


def creative_descendants(variant: CreativeVariant) -> list[CreativeVariant]:
    """Every version edited from ``variant``, directly or through other edits (one query)."""
    start = next((n for n in _nodes(creative_family(variant)) if n.variant.pk == variant.pk), None)
    return [v for depth, v in start.walk() if depth > 0] if start else []


def _nodes(node: LineageNode):
    yield node
    for child in node.children:
        yield from _nodes(child)
