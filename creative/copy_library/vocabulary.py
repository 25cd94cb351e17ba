"""The words the phrase rules need to know: which words leave a phrase dangling, which stay
capitalised, which nouns take a plural or no article, how a call to action starts."""

from __future__ import annotations

import re

from campaigns.campaign_types import campaign_types


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A phrase (or a hashtag) ending in one of these was cut from a longer one.
DANGLING = _words("a an and as at but by for from in into nor of on or our the their to via with your")
DETERMINERS = _words("a an the our your one this that")
# Words that stay capitalised mid-sentence (places and peoples; acronyms are kept anyway).
PROPER = _words(
    """german germany austrian austria swiss switzerland dutch netherlands belgian belgium british
    english french france spanish spain italian italy polish poland nordic scandinavian european
    europe american america canadian canada australian irish danish swedish norwegian finnish
    japanese chinese indian brazilian mexican berlin hamburg munich vienna zurich london paris
    amsterdam monday tuesday wednesday thursday friday saturday sunday"""
)
# Roles and organisations whose singular ("Fleet manager") becomes a plural ("fleet managers").
COUNTABLE = re.compile(
    r"(?:er|or|ist|ant|ent|ive|head|lead|chief|team|agency|company|business|firm|startup|shop|"
    r"brand|store|practice|clinic|school|studio)$"
)
ACRONYM = re.compile(r"[A-Z]{2,5}")  # CEO, CFO, VP: plural "CEOs"
# Nouns that take no "a": "route-planning software", "early access".
UNCOUNTABLE = _words(
    """software support advice training coaching consulting help access data analytics insurance
    shipping delivery content marketing research feedback guidance planning hardware equipment
    information management maintenance tooling"""
)
# A call to action starting with one of these is a question ("Worth a 15-minute call?").
QUESTION_STARTS = _words(
    "worth open interested would could can shall fancy keen happy ready time how what when should "
    "do does is are want"
)
IMPERATIVE_VERBS = _words(
    """save join subscribe book register get reply download try sign start claim grab request
    schedule see watch read learn discover explore contact call apply order reserve secure visit
    follow share comment send meet talk chat find check take attend enrol enroll listen ask let"""
)
# "Get a free audit" offers "a free audit".
OFFER_VERBS = _words("get grab claim book request take try")
# A measurable promise in the offer's details ("12 % fewer empty kilometres"), not "30 days".
PROOF = re.compile(
    r"%|\b(?:fewer|less|lower|more|higher|faster|quicker|up to|saves?|saved|saving|cuts?|reduces?|"
    r"reduced|increases?|increased|grows?|growth|percent|per cent|times)\b",
    re.IGNORECASE,
)
NEUTRAL_AUDIENCE = "teams like yours"
MISSING_AUDIENCE = frozenset({"", "our audience"})  # the generation service's fallback
# A calendar slot's theme starts with its phase ("Outreach: Proof and track record: …").
PHASE_NAMES = frozenset(p.name.lower() for t in campaign_types() for p in t.phases)
