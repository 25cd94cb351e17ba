"""Brief fields turned into whole phrases a sentence can hold.

A brief field is never cut to fit: when one is too long for a slot, the slot takes a shorter
whole part of it (the audience's lead group, the offer's name before its details) or a neutral
phrase. Fields that arrive already damaged ("… at carriers…", a pillar quoting a truncated
sentence) keep only their whole parts before the damage.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from string import Formatter

from ..checks import hashtag_problem
from ..personalization import TEMPLATE_LIKE
from ..ports import CreativeRequest
from .vocabulary import (
    ACRONYM,
    COUNTABLE,
    DANGLING,
    DETERMINERS,
    IMPERATIVE_VERBS,
    MISSING_AUDIENCE,
    NEUTRAL_AUDIENCE,
    OFFER_VERBS,
    PHASE_NAMES,
    PROOF,
    PROPER,
    QUESTION_STARTS,
    UNCOUNTABLE,
)

ELLIPSIS = re.compile(r"…|\.{3,}")  # a cut; ".." is a typo, squashed to "."
# Between a name and its details: "A free route audit: 12 % fewer …", "Audit — two weeks".
PART_SEPARATOR = re.compile(r"(:\s+|\s+[\u2014\u2013-]\s+|;\s+|\s+\|\s+)")  # colon, dashes
# Where a phrase may end without losing its meaning: `salvage` cuts a damaged last piece there.
CONNECTOR = re.compile(
    r",\s+|\s+(?:and|or|at|with|in|for|of|to|from|who|that|which|on|by|across|between)\s+",
    re.IGNORECASE,
)
# What follows an audience's people ("… at carriers", "… in Germany"): a qualifier.
QUALIFIER = re.compile(
    r"\s+(?:at|with|in|who|that|from|across|on|for|based|within|inside|working)\s+", re.IGNORECASE
)
COORDINATION = re.compile(r"(,\s+(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+)", re.IGNORECASE)
OF = re.compile(r"\s+of\s+", re.IGNORECASE)
RELATIVE = re.compile(r"\s+(?:that|which|who|for|to|with|so|because)\s+", re.IGNORECASE)


def stable_index(modulo: int, *key: str) -> int:
    digest = hashlib.sha256("|".join(key).encode()).digest()
    return int.from_bytes(digest[:4], "big") % modulo


def squash(text: str) -> str:
    """One line, single spaces, no template code, no doubled marks, no trailing punctuation."""
    text = TEMPLATE_LIKE.sub(" ", str(text or "")).replace("{{", " ").replace("{%", " ")
    text = " ".join(text.split())
    text = re.sub(r"([,;:!?])[,;:!?]+", r"\1", text)
    text = re.sub(r"(?<!\.)\.\.(?!\.)", ".", text)
    text = re.sub(r"\s+([,;:!?])", r"\1", text)
    return text.strip(" ,;:.!?")


def strip_dangling(text: str) -> str:
    words = text.strip(" ,;:-\u2014\u2013").split()
    while words and words[-1].lower().strip(",;:") in DANGLING:
        words.pop()
    return " ".join(words).strip(" ,;:-\u2014\u2013")


def salvage(damaged: str) -> str:
    """The whole phrase before a cut: "fleet managers and heads of logistics at carriers" (cut
    after it) keeps "fleet managers and heads of logistics"; a single cut phrase keeps nothing."""
    cuts = list(CONNECTOR.finditer(damaged))
    return strip_dangling(damaged[: cuts[-1].start()]) if cuts else ""


def _whole_pieces(text: str) -> list[tuple[str, str]]:
    """(separator before it, part) for each whole part of the field, in order."""
    pieces: list[tuple[str, str]] = []
    text = " ".join(TEMPLATE_LIKE.sub(" ", str(text or "")).split())
    split = PART_SEPARATOR.split(text)
    separators = ["", *split[1::2]]
    for separator, part in zip(separators, split[::2], strict=True):
        cut = ELLIPSIS.search(part)
        if cut:
            if not part[cut.end() :].strip(" .,;:!?"):
                kept = salvage(squash(part[: cut.start()]))
                if kept:
                    pieces.append((separator, kept))
            break  # nothing after a cut is trusted
        part = squash(part)
        if part:
            pieces.append((separator, part))
    return pieces


def whole_parts(text: str) -> list[str]:
    """The field's parts (split at a colon, a spaced dash or a semicolon), each whole; a part cut
    off with an ellipsis keeps its whole phrases, and nothing after a cut is trusted."""
    return [part for _, part in _whole_pieces(text)]


def whole_text(text: str) -> str:
    """The field as written, up to its last whole part (the writer's own separators kept)."""
    out = ""
    for separator, part in _whole_pieces(text):
        if out:
            mark = separator.strip()
            out += f"{mark} " if mark in (":", ";") else separator
        out += part
    return out


def lower_first(phrase: str) -> str:
    """For mid-sentence use: "Fleet managers" → "fleet managers"; names and acronyms keep case."""
    words = phrase.split()
    first = re.sub(r"[^\w]", "", words[0]) if words else ""
    # "Route Optimisation Pilot", "Kostenlose Tourenanalyse": a name, keep it as written.
    second = re.sub(r"[^\w]", "", words[1]) if len(words) > 1 else ""
    name_like = second[:1].isupper() and not ACRONYM.fullmatch(second) and second.lower() not in PROPER
    plain = first.isascii() and first.isalpha() and first.lower() not in PROPER and not name_like
    if plain and (first == "A" or (len(first) > 1 and first[0].isupper() and first[1:].islower())):
        return phrase[0].lower() + phrase[1:]
    return phrase


def upper_first(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]


def sentence(text: str) -> str:
    """A whole sentence: capitalised, one closing mark."""
    text = text.strip()
    if not text:
        return ""
    return upper_first(text) if text[-1] in ".!?" else upper_first(text) + "."


def _plural_word(word: str) -> str:
    if ACRONYM.fullmatch(word):
        return word if word.endswith("S") else word + "s"
    if not word.isascii() or word.lower().endswith("s") or not COUNTABLE.search(word.lower()):
        return word
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if re.search(r"(ch|sh|x|ss)$", word):
        return word + "es"
    return word + "s"


def plural(phrase: str) -> str:
    """ "Fleet manager" → "Fleet managers", "head of logistics" → "heads of logistics"."""
    found = OF.search(phrase)
    noun_part, rest = (phrase[: found.start()], phrase[found.start() :]) if found else (phrase, "")
    words = noun_part.split()
    if not words:
        return phrase
    words[-1] = _plural_word(words[-1])
    return " ".join(words) + rest


def _article(noun_phrase: str) -> str:
    start = noun_phrase.lower()
    if start.startswith(("hour", "honest", "honour", "honor")):
        return "an"
    if start[:1] in "aeiou" and not start.startswith(("uni", "use", "usu", "eu", "one")):
        return "an"
    return "a"


def with_article(noun_phrase: str) -> str:
    """ "free route audit" → "a free route audit"; plurals, mass nouns and determiners stay."""
    words = noun_phrase.split()
    if not words or words[0].lower() in DETERMINERS or words[0][:1].isdigit():
        return noun_phrase
    core = RELATIVE.split(noun_phrase, maxsplit=1)[0].partition(" of ")[0]
    head = re.sub(r"[^a-z]", "", core.split()[-1].lower().rsplit("-", 1)[-1])
    if not head or head.endswith("s") or head in UNCOUNTABLE:
        return noun_phrase
    return f"{_article(noun_phrase)} {noun_phrase}"


def fits(text: str, limit: int) -> bool:
    return bool(text) and len(text) <= limit


def fill(template: str, facts: dict[str, str]) -> str | None:
    """``template`` with its fields filled, or None when a field it needs is empty."""
    names = [name for _, name, _, _ in Formatter().parse(template) if name]
    if any(not facts.get(name) for name in names):
        return None
    return template.format(**facts)


def first_fit(templates: tuple[str, ...], facts: dict[str, str], limit: int = 10_000) -> str:
    """The first template whose fields are all there and whose result fits ``limit``; every list
    ends with a template that needs no field, so there is always one."""
    for template in templates:
        text = fill(template, facts)
        if text is not None and len(text) <= limit:
            return text
    raise ValueError(f"no template fits: {templates!r}")


def _tag_word(word: str) -> str:
    if word.isupper() and len(word) > 3:  # "CODE" → "Code"; "AI", "B2B", "CFO" stay
        return word.capitalize()
    return word[:1].upper() + word[1:]


def camel_tag(phrase: str, max_words: int = 3, *, tail: bool = False) -> str:
    """A hashtag from a whole short phrase ("fleet managers" → "FleetManagers"), or "". With
    ``tail`` a longer noun phrase gives its last two terms, its head noun and the term that
    qualifies it ("two-week analytics audit" → "AnalyticsAudit")."""
    terms = phrase.split()
    while terms and terms[0].lower() in DETERMINERS:
        terms = terms[1:]
    words = re.findall(r"[^\W_]+", " ".join(terms))
    if tail and len(words) > max_words:
        words = re.findall(r"[^\W_]+", " ".join(terms[-2:]))
    if not 1 <= len(words) <= max_words or any(w.isdigit() for w in words):
        return ""
    tag = "".join(_tag_word(w) for w in words)
    return "" if hashtag_problem(tag) else tag


# --- the brief as facts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Cta:
    text: str  # "Worth a 15-minute call", "Save your seat"
    kind: str  # question | imperative | statement

    @property
    def lower(self) -> str:
        return lower_first(self.text)

    def line(self, question: str, imperative: str, statement: str) -> str:
        """The call to action in this platform's words; ``{cta}`` / ``{cta_lower}`` are filled."""
        template = {"question": question, "imperative": imperative, "statement": statement}[self.kind]
        return template.format(cta=upper_first(self.text), cta_lower=self.lower)


def _cta(text: str) -> Cta:
    asked = str(text or "").strip().endswith("?")
    text = squash(text) or "Worth a short call"
    first = text.split()[0].lower()
    if asked or first in QUESTION_STARTS:
        return Cta(text, "question")
    if first in IMPERATIVE_VERBS:
        return Cta(text, "imperative")
    return Cta(text, "statement")


@dataclass(frozen=True)
class BriefFacts:
    """What the copy may say, each a whole phrase (or "" when the brief does not give one)."""

    audience: str  # for mid-sentence: "fleet managers and heads of logistics at carriers with …"
    audience_lead: str  # the first group: "fleet managers"
    audience_field: str  # what a group is "of": "logistics" in "heads of logistics"
    offer: str  # a noun phrase for mid-sentence: "a free route audit"
    offer_title: str  # for a subject: "Free route audit"
    offer_line: str  # the whole offer as a sentence
    offer_explained: str  # the same, when it says more than the offer's name (else "")
    proof: str  # the offer's measurable detail: "12 % fewer empty kilometres in the first quarter"
    theme: str  # the pillar's lead phrase, for notes and a hashtag
    cta: Cta
    tone: str
    seed: str

    def pick(self, options: tuple[str, ...], *salt: str) -> str:
        return options[stable_index(len(options), self.seed, *salt)]

    def slots(self, audience_limit: int = 90, lead_limit: int = 40, offer_limit: int = 60) -> dict[str, str]:
        """Named phrases for templates, each chosen whole to fit its slot."""
        lead = self.audience_lead if fits(self.audience_lead, lead_limit) else NEUTRAL_AUDIENCE
        who = self.audience if fits(self.audience, audience_limit) else lead
        offer = self.offer if fits(self.offer, offer_limit) else ""
        return {
            "who": who,
            "lead": lead,
            "Lead": upper_first(lead),
            "offer": offer,
            "Offer": upper_first(offer),
            "offer_title": self.offer_title,
            "offer_line": self.offer_line if len(self.offer_line) <= 400 else "",
            "offer_explained": self.offer_explained if len(self.offer_explained) <= 400 else "",
            "proof": self.proof,
            "Proof": upper_first(self.proof),
        }

    def hashtags(self, limit: int) -> tuple[str, ...]:
        """Up to ``limit`` tags, each the CamelCase of a whole short phrase of the brief: the
        offer's name, the audience's lead group, the pillar's theme, the audience's field."""
        name = RELATIVE.split(self.offer, maxsplit=1)[0] if self.offer else ""
        candidates = (
            camel_tag(name, tail=True),
            camel_tag(self.audience_lead),
            camel_tag(self.theme),
            camel_tag(self.audience_field, max_words=2),
        )
        tags: list[str] = []
        for tag in candidates:
            if tag and tag.lower() not in {t.lower() for t in tags}:
                tags.append(tag)
        return tuple(tags[:limit])


def _audience(raw: str) -> tuple[str, str, str]:
    """(the whole audience for mid-sentence, its lead group, the field a group is "of")."""
    text = re.sub(r"(?<=[^\W\d_])\s+/\s+(?=[^\W\d_])", " and ", str(raw or ""))
    parts = whole_parts(text)
    if not parts or parts[0].lower() in MISSING_AUDIENCE:
        return "", "", ""
    people, qualifier = [*QUALIFIER.split(parts[0], maxsplit=1), ""][:2]
    found = QUALIFIER.search(parts[0])
    pieces = COORDINATION.split(people)
    plural_people = "".join(p if i % 2 else plural(p) for i, p in enumerate(pieces))
    full = plural_people + (found.group(0) + qualifier if found and qualifier else "")
    lead = strip_dangling(plural(pieces[0]))
    field = next((OF.split(p, maxsplit=1)[1] for p in pieces[::2] if OF.search(p)), "")
    return lower_first(full), lower_first(lead), field


def _offer(raw: str) -> tuple[str, str, str, str, bool]:
    """(noun phrase, subject title, whole sentence, measurable detail, whether the sentence says
    more than the noun phrase)."""
    parts = whole_parts(raw)
    if not parts:
        return "", "", "", "", False
    head, details = parts[0], parts[1:]
    words = head.split()
    is_sentence = (
        bool(re.search(r"[.!?]\s", head))
        or words[0].lower() in {"we", "i", "you", "they"}
        or str(raw).rstrip().endswith("?")
    )
    if words[0].lower() in OFFER_VERBS and len(words) > 1 and words[1].lower() in DETERMINERS:
        head, words = " ".join(words[1:]), words[1:]  # "Get a free audit" → "a free audit"
    elif words[0].lower() in IMPERATIVE_VERBS:
        is_sentence = True
    noun_phrase = "" if is_sentence else with_article(lower_first(head))
    bare = head.split(" ", 1)[1] if len(words) > 1 and words[0].lower() in {"a", "an", "the"} else head
    name = RELATIVE.split(bare, maxsplit=1)[0]
    title = upper_first(name) if not is_sentence and len(name) <= 40 else ""
    proof = next((d for d in details if PROOF.search(d) and re.search(r"\d", d) and len(d) <= 100), "")
    line = whole_text(raw)
    if line == squash(raw) and str(raw).rstrip().endswith(("?", "!")):
        line += str(raw).rstrip()[-1]  # the writer's own question or exclamation, when whole
    return noun_phrase, title, sentence(line), lower_first(proof), bool(details) or is_sentence


def brief_facts(request: CreativeRequest) -> BriefFacts:
    audience, lead, field = _audience(request.audience)
    offer, title, line, proof, explained = _offer(request.offer)
    # A calendar slot's theme starts with its phase ("Outreach: Proof and track record: …").
    themes = [t for t in whole_parts(request.pillar) if t.lower() not in PHASE_NAMES]
    theme = themes[0] if themes and len(themes[0]) <= 40 and len(themes[0].split()) <= 5 else ""
    seed = "|".join(
        (request.platform, request.campaign_name, request.audience, request.offer, request.pillar)
    )
    return BriefFacts(
        audience=audience,
        audience_lead=lead,
        audience_field=field,
        offer=offer,
        offer_title=title,
        offer_line=line,
        offer_explained=line if explained else "",
        proof=proof,
        theme=theme,
        cta=_cta(request.cta),
        tone=(request.tone or "professional").strip().lower(),
        seed=seed,
    )
