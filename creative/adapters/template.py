"""Deterministic offline creative generator: same request, same drafts; no network, no keys.

Variants differ by angle (direct, story, question, proof, contrarian) so reviewers compare real
alternatives. Emails carry the merge fields and the CAN-SPAM footer placeholders; social posts stay
inside their platform's limits.
"""

from __future__ import annotations

import hashlib
import html
import re

from ..ports import CreativeDraft, CreativeRequest, GenerationResult

EASY_STARTS = (
    "It takes one short call to see if it fits.",
    "No big project needed to start.",
    "You can try it on one team first.",
)
ANGLES = ("direct", "story", "question", "proof", "contrarian")
SUBJECT_TOPIC_CHARS = 36
SUBJECT_AUDIENCE_CHARS = 24
EMAIL_FOOTER = (
    "\n\n--\n{{ sender_name }}, {{ sender_company }}\n{{ sender_address }}\n"
    "Not interested? Unsubscribe: {{ unsubscribe_url }}"
)


def _pick(options: tuple[str, ...], *key: str) -> str:
    digest = hashlib.sha256("|".join(key).encode()).digest()
    return options[digest[0] % len(options)]


def _tag(text: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", text)
    return "".join(w.capitalize() for w in words[:3]) or "Marketing"


def _clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary, without a trailing ellipsis or comma."""
    text = " ".join(text.replace("…", " ").split()).rstrip(".")
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(" ,;:-—")


def _topic(pillar: str) -> str:
    """A pillar's lead phrase for a subject line: "Clear outcomes: why … choose …" → "Clear outcomes"."""
    for separator in (":", " — ", " - ", ", told in", " around "):
        pillar = pillar.split(separator, 1)[0]
    return _clip(pillar, SUBJECT_TOPIC_CHARS)


def _opening(angle: str, r: CreativeRequest) -> str:
    pillar = r.pillar.rstrip(".")
    return {
        "direct": f"{r.offer.rstrip('.')} — built for {r.audience}.",
        "story": f"Last quarter a team much like yours was stuck on {pillar.lower()}. Here is what changed.",
        "question": f"How much time does your team lose to {pillar.lower()} every week?",
        "proof": f"Teams focused on {pillar.lower()} see results within weeks, not quarters.",
        "contrarian": f"Most advice about {pillar.lower()} is wrong for {r.audience}.",
    }[angle]


def _email(angle: str, r: CreativeRequest) -> CreativeDraft:
    # Subjects stay well inside the ~78 characters inboxes show (creative.checks warns above that):
    # the pillar's lead phrase, not the whole pillar sentence.
    topic = _topic(r.pillar)
    who = _clip(r.audience.split(" and ")[0], SUBJECT_AUDIENCE_CHARS)
    subjects = {
        "direct": f'{topic} for {{{{ company|default:"your team" }}}}',
        "story": f'How a team like {{{{ company|default:"yours" }}}} fixed {topic.lower()}',
        "question": 'Quick question, {{ first_name|default:"there" }}',
        "proof": f"What {who} learned about {topic.lower()}",
        "contrarian": f"The {topic.lower()} myth",
    }
    opening = _opening(angle, r)
    reassurance = _pick(EASY_STARTS, r.campaign_name, angle)
    body = (
        f'Hi {{{{ first_name|default:"there" }}}},\n\n{opening}\n\n'
        f"{r.offer.rstrip('.')}. {reassurance}\n\n"
        f"{r.cta.rstrip('.')}?" + EMAIL_FOOTER
    )
    paragraphs = "".join(
        f"<p>{html.escape(p, quote=False).replace(chr(10), '<br>')}</p>" for p in body.split("\n\n")
    )
    return CreativeDraft(
        angle=angle,
        subject=subjects[angle],
        preheader=opening[:90],
        body=body,
        body_html=paragraphs,
        cta=r.cta,
    )


def _social(angle: str, r: CreativeRequest) -> CreativeDraft:
    opening = _opening(angle, r)
    hashtags = (_tag(r.pillar), _tag(r.audience), _tag(r.campaign_type.replace("_", " ")))
    if r.platform == "x":
        body = f"{opening} {r.cta.rstrip('.')}."
        body = body if len(body) <= 240 else body[:237] + "…"
        hashtags = hashtags[:2]
        media = "Optional: one square image with the key line as text overlay."
    elif r.platform == "instagram":
        body = f"{opening}\n\n{r.offer.rstrip('.')}.\n\n{r.cta.rstrip('.')} — link in bio."
        media = "Carousel: 1) the hook line, 2-4) one idea per slide, 5) the call to action."
    else:  # linkedin
        body = (
            f"{opening}\n\nWhat we keep seeing with {r.audience}:\n"
            f"→ {r.pillar.rstrip('.')} decides who wins.\n→ Small changes compound.\n\n"
            f"{r.offer.rstrip('.')}.\n\n{r.cta.rstrip('.')} — comment or send me a message."
        )
        media = "Native document or a single chart; no external link in the post body."
    return CreativeDraft(angle=angle, body=body, cta=r.cta, hashtags=tuple(hashtags), media_notes=media)


class TemplateCreativeGenerator:
    name = "template"

    def generate(self, request: CreativeRequest) -> GenerationResult:
        if not 1 <= request.variants <= len(ANGLES):
            raise ValueError(f"variants must be between 1 and {len(ANGLES)}, got {request.variants}")
        build = _email if request.platform == "email" else _social
        drafts = [build(angle, request) for angle in ANGLES[: request.variants]]
        return GenerationResult(drafts=drafts, generator=self.name)
