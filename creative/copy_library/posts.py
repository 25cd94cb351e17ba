"""Social post structures per platform the app publishes to (LinkedIn, Instagram, X).

LinkedIn: an observation and its lesson, a three-question checklist, a question to the audience,
myth versus reality, and how the offer works. Instagram: a save-worthy tip, a carousel, a
question, myth versus reality, behind the scenes. X: the same five ideas in one short post that
fits 280 characters with its hashtags, or a shorter whole version of it, never a cut one.
"""

from __future__ import annotations

from ..checks import LIMITS
from ..ports import CreativeDraft
from .phrases import BriefFacts, first_fit
from .structures import Structure

HASHTAGS = {"linkedin": 3, "instagram": 5, "x": 2}
THREE_STEPS = (
    "1. A short call to understand how your team works today.\n"
    "2. We do the groundwork and share what we find, in plain language.\n"
    "3. You decide what to act on, with no obligation."
)
NO_LINK = "No external link in the post body: put it in the first comment."

LINKEDIN = (
    Structure(
        key="observation and lesson",
        lines=(
            (("Most {lead} are not short of ideas. They are short of time to test them.",),),
            (
                (
                    "The teams that improve fastest do one thing differently: they start small, "
                    "measure, and only then scale.",
                ),
            ),
            (("That is the thinking behind {offer}.", "That is how we work."), ("The aim: {proof}.", "")),
        ),
        media_notes=f"One chart or a photo of the work itself. {NO_LINK}",
    ),
    Structure(
        key="checklist",
        lines=(
            (("Three questions worth asking at your next planning meeting:",),),
            (
                (
                    "→ Where does the team lose the most time today?\n"
                    "→ Which number would you show the board if it moved?\n"
                    "→ What is the smallest step that would prove it can move?",
                ),
            ),
            (
                (
                    "For {who}, that smallest step is often {offer}.",
                    "That last question is the one we help {lead} answer.",
                ),
            ),
        ),
        media_notes=f"A native document with one question per page. {NO_LINK}",
    ),
    Structure(
        key="question to the audience",
        lines=(
            (("A question for {lead}: if you had one free week, what would you fix first?",),),
            (
                (
                    "I ask because the answers shape how we run {offer}: one area, one clear "
                    "result, then the next decision.",
                    "I ask because the answers shape how we work: one area, one clear result, then "
                    "the next decision.",
                ),
            ),
            (("Tell me in the comments; I read every reply.",),),
        ),
        media_notes="Text only: a question without an image draws more comments.",
    ),
    Structure(
        key="myth and reality",
        lines=(
            (("Myth: real improvement needs a big project and a bigger budget.",),),
            (
                (
                    "Reality: the teams that move fastest start small, measure honestly, and build "
                    "on what works.",
                ),
            ),
            (
                ("That is why we start with {offer}.", "That is why we start small."),
                ("The aim: {proof}.", ""),
            ),
        ),
        media_notes=f"Two panels: the myth on the left, the reality on the right. {NO_LINK}",
    ),
    Structure(
        key="how it works",
        lines=(
            (("How {offer} works, in three steps:", "How working with us works, in three steps:"),),
            ((THREE_STEPS,),),
            (("Built for {who}.", ""),),
        ),
        media_notes=f"A native document with one step per page. {NO_LINK}",
    ),
)

INSTAGRAM = (
    Structure(
        key="save-worthy tip",
        lines=(
            (("Save this for your next planning meeting.",),),
            (
                (
                    "The fastest way to improve is rarely the biggest project. It is one small "
                    "change, measured properly.",
                ),
            ),
            (
                ("For {who}, that change often starts with {offer}.", "Start with one team and one number."),
                ("The aim: {proof}.", ""),
            ),
        ),
        media_notes="One bold text image with the first line; the caption carries the rest.",
    ),
    Structure(
        key="carousel",
        lines=(
            (("Swipe for the three steps of {offer}.", "Swipe for the three steps of working with us."),),
            (
                (
                    "1. One short call.\n2. Groundwork and plain-language findings.\n"
                    "3. Your decision, no obligation.",
                ),
            ),
        ),
        media_notes="Carousel: 1) the hook line, 2-4) one step per slide, 5) the call to action.",
    ),
    Structure(
        key="question to the audience",
        lines=(
            (("{Lead}: what would you fix first with one free week? Tell us in the comments.",),),
            (("{offer_explained}", ""),),
        ),
        media_notes="A single image with the question as text overlay.",
    ),
    Structure(
        key="myth and reality",
        lines=(
            (("Myth: change needs a big budget.\nReality: it needs a first step you can measure.",),),
            (("Ours is {offer}.", "Ours is one team, one number, one month."), ("The aim: {proof}.", "")),
        ),
        media_notes="Two slides: the myth, then the reality.",
    ),
    Structure(
        key="behind the scenes",
        lines=(
            (
                (
                    "Behind the scenes: this week we are preparing {offer} for {lead}.",
                    "Behind the scenes: this week we are preparing the next project for {lead}.",
                ),
            ),
            (("What goes into it: listening first, then the numbers, then a plain-language summary.",),),
        ),
        media_notes="Reel or photo of the team at work; no stock images.",
    ),
)

X = (
    Structure(
        key="offer and proof",
        lines=(
            (
                (
                    "{offer_title} for {lead}. The aim: {proof}. {ask}",
                    "{offer_title} for {lead}. {ask}",
                    "{Offer}, built for {lead}. {ask}",
                    "Small steps, measured properly. {ask}",
                ),
            ),
        ),
    ),
    Structure(
        key="small steps",
        lines=(
            (
                (
                    "Small steps beat big plans. For {lead}, the first one is {offer}. {ask}",
                    "Small steps beat big plans. Start with one team and one number. {ask}",
                ),
            ),
        ),
    ),
    Structure(
        key="question to the audience",
        lines=(
            (
                (
                    # A question post asks one question: the answer is the reply, not a meeting.
                    "{Lead}: if you had one free week, what would you fix first? Tell me in the replies.",
                    "If you had one free week, what would you fix first? Tell me in the replies.",
                ),
            ),
        ),
    ),
    Structure(
        key="myth and reality",
        lines=(
            (
                (
                    "Myth: real improvement needs a big project. Reality: start small, measure, "
                    "build on what works. {ask}",
                ),
            ),
        ),
    ),
    Structure(
        key="how it works",
        lines=(
            (
                (
                    "How {offer} works: one call, one clear finding, one decision. {ask}",
                    "How we work: one call, one clear finding, one decision. {ask}",
                ),
            ),
        ),
    ),
)

POST_STRUCTURES = {"linkedin": LINKEDIN, "instagram": INSTAGRAM, "x": X}
MEDIA_X = "Optional: one square image with the key line as text overlay."


def _ask(platform: str, facts: BriefFacts) -> str:
    where = {
        "linkedin": ("Comment below or send me a message.", "comment below or send me a message."),
        "instagram": ("Send us a DM.", "link in bio."),
        "x": ("Reply or DM.", "reply or DM."),
    }[platform]
    return facts.cta.line(
        question="{cta}? " + where[0],
        imperative="{cta}: " + where[1],
        statement="{cta}: " + where[1],
    )


def write_post(platform: str, structure: Structure, facts: BriefFacts) -> CreativeDraft:
    hashtags = facts.hashtags(HASHTAGS[platform])
    tag_room = sum(len(t) + 2 for t in hashtags) + 2  # "#Tag " each, and the blank line before
    limit = LIMITS[platform] - tag_room
    ask = _ask(platform, facts)
    slots = structure.slots(facts, {**facts.slots(), "ask": ask})
    if platform == "x":
        # One chain of whole posts, richest first: the first that fits is used.
        body = first_fit(structure.lines[0][0], slots, limit)
    else:
        body = "\n\n".join([*structure.render_lines(slots), ask])
        if len(body) > limit:  # only an enormous brief field gets here: drop to neutral phrases
            body = "\n\n".join(
                [
                    *structure.render_lines({**slots, "offer": "", "offer_line": "", "offer_explained": ""}),
                    ask,
                ]
            )
    notes = structure.media_notes or MEDIA_X
    if facts.theme:
        notes += f" Theme: {facts.theme}."
    return CreativeDraft(
        angle=structure.key, body=body, cta=facts.cta.text, hashtags=hashtags, media_notes=notes
    )
