"""The funnel as the dashboard and the client reports draw it: leads at each stage or past it."""

from __future__ import annotations

from leads.models import LeadState

FUNNEL_STAGES = [
    ("Leads", None),
    (
        "Contacted+",
        (LeadState.CONTACTED, LeadState.REPLIED, LeadState.QUALIFIED, LeadState.WON, LeadState.LOST),
    ),
    ("Replied+", (LeadState.REPLIED, LeadState.QUALIFIED, LeadState.WON)),
    ("Qualified", (LeadState.QUALIFIED, LeadState.WON)),
    ("Won", (LeadState.WON,)),
]


def funnel_stages(by_state: dict[str, int]) -> list[tuple[str, int]]:
    """Each funnel stage with the leads at it or past it (the dashboard's chart, the client report)."""
    total = sum(by_state.values())
    return [
        (label, total if states is None else sum(by_state.get(s, 0) for s in states))
        for label, states in FUNNEL_STAGES
    ]
