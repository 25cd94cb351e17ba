"""Briefs that broke the old offline generator, and others like them: short, long, with colons,
dashes, percentages, long country lists, missing optional fields, German names, damaged fields."""

from __future__ import annotations

from creative.checks import CreativeContent
from creative.ports import CreativeRequest

BASE = dict(
    campaign_name="Q1 pipeline",
    campaign_type="lead_gen",
    pillar="Faster reporting",
    audience="heads of data",
    offer="A two-week analytics audit",
    cta="Worth a 15-minute call",
    tone="professional",
)

BRIEFS = {
    "plain": {},
    "demo": dict(
        audience="Fleet managers and heads of logistics at carriers with 20-500 vehicles",
        offer="A free route audit: 12 % fewer empty kilometres in the first quarter",
        pillar="Clear, measurable outcomes: why fleet managers and heads of logistics at carriers… "
        "choose a free route audit: 12 % fewer empty…",
    ),
    "short": dict(audience="CFOs", offer="Free audit", cta="Book a demo", pillar="Speed"),
    "single words": dict(audience="Founders", offer="Coaching", cta="Apply", pillar="Trust"),
    "long country list": dict(
        audience="Operations managers, fleet managers and logistics directors at mid-size carriers in "
        "Germany, Austria, Switzerland, the Netherlands, Belgium, Luxembourg, France, Poland and "
        "the Czech Republic",
        offer="Route optimisation pilot — 30 days: up to 18 % fewer empty kilometres, 9 % lower fuel "
        "spend and a clear report for your board",
        pillar="Cost of waiting: how a route optimisation pilot helps them book calls in Switzerland..",
    ),
    "damaged fields": dict(
        audience="fleet managers and heads of logistics at carriers…",
        offer="A free route audit: 12 % fewer empty…",
        pillar="List building and research: Proof and track record: why fleet managers… choose…",
    ),
    "empty": dict(audience="", offer="", cta="", pillar="", tone="", campaign_name=""),
    "missing optional fields": dict(audience="our audience", pillar="", cta="", tone="", constraints=""),
    "german": dict(
        campaign_name="Frühjahr 2026 \u2013 Müller & Söhne",
        audience="Geschäftsführer und Einkaufsleiter mittelständischer Speditionen",
        offer="Kostenlose Tourenanalyse: 12 % weniger Leerkilometer",
        cta="Jetzt Termin vereinbaren",
        pillar="Vertrauen & Referenzen",
    ),
    "german audience in english": dict(
        audience="German fleet managers in Bavaria and Baden-Württemberg",
        offer="A Tourenplanung workshop for Spediteure",
    ),
    "offer is a question": dict(
        offer="Want fewer empty kilometres?", audience="Fleet managers in Germany, Austria and Switzerland"
    ),
    "offer is a sentence": dict(
        offer="We build your reporting stack in two weeks.", audience="Heads of data"
    ),
    "imperative offer": dict(
        campaign_type="webinar", offer="Get a free data-quality scan", cta="Save your seat"
    ),
    "slash icp": dict(
        audience="Fleet manager / head of logistics", offer="Route-planning software that cuts fuel costs"
    ),
    "trailing punctuation": dict(
        audience="Retailers in Austria and Switzerland.",
        offer="A 20 % discount on the first order..",
        cta="Join the waitlist!",
    ),
    "question cta": dict(cta="Open to a chat?", offer="An onboarding workshop - half a day, on site"),
    "huge fields": dict(
        audience=("Procurement leads, category managers, heads of operations, finance directors, " * 4).strip(
            ", "
        ),
        offer="A " + "very " * 60 + "thorough assessment of your supply chain with a written report",
        pillar="Benchmarks and data around " + "supply chain " * 20,
    ),
    "template syntax in fields": dict(
        offer="{{ company|default:'Your' }} savings plan",
        pillar="{% if vip %}VIP{% endif %} outcomes",
        audience="Owners of {{ industry }} firms",
    ),
    "quotes and ampersands": dict(
        audience="R&D leads at 'deep tech' start-ups",
        offer='The "Ship It" workshop',
        cta="Request the agenda",
    ),
    "all caps": dict(audience="CTOS AND VPS OF ENGINEERING", offer="AI CODE REVIEW", cta="BOOK A DEMO"),
    "dashes": dict(
        audience="Heads of data \u2013 mid-market SaaS",
        offer="Two-week analytics audit - fixed price",
        pillar="Speed to value — how a two-week analytics audit helps them",
    ),
    "product launch": dict(
        campaign_type="product_launch",
        offer="Early access to our new API for logistics teams",
        cta="Join the early-access list",
        tone="casual",
        pillar="Teaser: Behind the scenes",
    ),
    "formal tone": dict(tone="formal", cta="Subscribe for the next one", campaign_type="content"),
    "calendar theme": dict(
        pillar="Outreach: Low-risk first step: why operations directors choose route-planning software "
        "that cuts fuel co",
        audience="Operations directors",
        offer="Route-planning software that cuts fuel costs",
    ),
}


def request(name: str, platform: str, variants: int = 5) -> CreativeRequest:
    return CreativeRequest(platform=platform, variants=variants, **{**BASE, **BRIEFS[name]})


def content(platform: str, draft) -> CreativeContent:
    """A draft as the checks read it."""
    return CreativeContent(
        platform=platform,
        subject=draft.subject,
        preheader=draft.preheader,
        body=draft.body,
        body_html=draft.body_html,
        cta=draft.cta,
        hashtags=draft.hashtags,
        media_notes=draft.media_notes,
    )
