"""Campaign types are a registry: a new type is one `register_campaign_type` call.

Each type contributes its phase template, default KPIs and channel mix, which strategy
generation and reporting read from here instead of branching on the type's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PhaseTemplate:
    key: str
    name: str
    share: float  # fraction of the campaign's duration
    tactics: tuple[str, ...]


@dataclass(frozen=True)
class CampaignType:
    key: str
    label: str
    description: str
    phases: tuple[PhaseTemplate, ...]
    default_kpis: dict[str, float] = field(default_factory=dict)
    channel_mix: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        total = round(sum(p.share for p in self.phases), 6)
        if self.phases and total != 1.0:
            raise ValueError(f"campaign type {self.key!r}: phase shares must add up to 1, got {total}")


_REGISTRY: dict[str, CampaignType] = {}


def register_campaign_type(campaign_type: CampaignType) -> CampaignType:
    if campaign_type.key in _REGISTRY:
        raise ValueError(f"campaign type {campaign_type.key!r} is already registered")
    _REGISTRY[campaign_type.key] = campaign_type
    return campaign_type


def get_campaign_type(key: str) -> CampaignType:
    try:
        return _REGISTRY[key]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown campaign type {key!r}; known types: {known}") from None


def campaign_types() -> list[CampaignType]:
    return list(_REGISTRY.values())


def campaign_type_choices() -> list[tuple[str, str]]:
    return [(t.key, t.label) for t in _REGISTRY.values()]


register_campaign_type(
    CampaignType(
        key="lead_gen",
        label="Lead generation",
        description="Find and contact ideal customers until enough of them qualify.",
        phases=(
            PhaseTemplate(
                "research",
                "List building and research",
                0.2,
                ("Define ICP", "Build and verify lead list", "Set up tracking"),
            ),
            PhaseTemplate(
                "outreach",
                "Outreach",
                0.5,
                ("Cold email sequence", "LinkedIn connection requests", "Follow-ups"),
            ),
            PhaseTemplate(
                "nurture", "Nurture and qualify", 0.3, ("Reply handling", "Discovery calls", "Qualification")
            ),
        ),
        default_kpis={"reply_rate": 0.05, "qualified_leads": 10, "bounce_rate_max": 0.03},
        channel_mix={"email": 0.6, "linkedin": 0.4},
    )
)
register_campaign_type(
    CampaignType(
        key="product_launch",
        label="Product launch",
        description="Build anticipation, launch, and convert early interest.",
        phases=(
            PhaseTemplate("teaser", "Teaser", 0.25, ("Waitlist page", "Teaser posts", "Beta invites")),
            PhaseTemplate("launch", "Launch", 0.25, ("Launch email", "Launch posts", "Press outreach")),
            PhaseTemplate("momentum", "Momentum", 0.5, ("Customer stories", "Feature drips", "Offers")),
        ),
        default_kpis={"signups": 200, "open_rate": 0.35, "click_rate": 0.05},
        channel_mix={"email": 0.4, "linkedin": 0.2, "x": 0.2, "instagram": 0.2},
    )
)
register_campaign_type(
    CampaignType(
        key="webinar",
        label="Webinar",
        description="Fill a live session and follow up with attendees.",
        phases=(
            PhaseTemplate(
                "promote", "Promotion", 0.6, ("Invitation emails", "Speaker posts", "Reminder sequence")
            ),
            PhaseTemplate("event", "Live event", 0.1, ("Day-of reminders", "Live session", "Q&A capture")),
            PhaseTemplate(
                "follow_up", "Follow-up", 0.3, ("Recording email", "Attendee follow-up", "No-show follow-up")
            ),
        ),
        default_kpis={"registrations": 150, "attendance_rate": 0.4, "reply_rate": 0.03},
        channel_mix={"email": 0.5, "linkedin": 0.3, "x": 0.2},
    )
)
register_campaign_type(
    CampaignType(
        key="content",
        label="Content",
        description="Publish consistently to grow an engaged audience.",
        phases=(
            PhaseTemplate("foundation", "Foundation", 0.2, ("Content pillars", "Editorial calendar")),
            PhaseTemplate("publish", "Publishing", 0.6, ("Weekly posts", "Newsletter", "Repurposing")),
            PhaseTemplate("optimise", "Optimisation", 0.2, ("Double down on winners", "Retire losers")),
        ),
        default_kpis={"engagement_rate": 0.04, "followers_gained": 300, "newsletter_open_rate": 0.4},
        channel_mix={"linkedin": 0.4, "instagram": 0.3, "x": 0.1, "email": 0.2},
    )
)
