"""Cold-email structures that have earned their place: problem-agitate-solve, before-after-bridge,
a walk-through of the work (a case study of the typical engagement, so no customer or result is
invented), a quick question, and the break-up email that closes a sequence.

Subjects and preheaders are plain text (no merge fields: they also name the variant in lists and
tasks); the body greets by first name and ends with the CAN-SPAM footer placeholders.
"""

from __future__ import annotations

import html

from ..ports import CreativeDraft
from .phrases import BriefFacts, first_fit
from .structures import Structure

SUBJECT_LIMIT = 60  # well inside the ~78 characters an inbox shows, on a phone too
PREHEADER_LIMIT = 90
COMPANY = '{{ company|default:"your company" }}'
GREETINGS = {"formal": 'Hello {{ first_name|default:"there" }},'}
GREETING = 'Hi {{ first_name|default:"there" }},'
SIGN_OFFS = {"casual": "Cheers,", "friendly": "Best,"}
SIGN_OFF = "Best regards,"
# Name and company on lines of their own: when the sender's name already says the company, the
# company is left empty (outreach.senders.signature_names), never repeated after a comma.
EMAIL_FOOTER = (
    "\n\n--\n{{ sender_name }}\n{{ sender_company }}\n{{ sender_address }}\n"
    "Not interested? Unsubscribe: {{ unsubscribe_url }}"
)
EASY_STARTS = (
    "It takes one short call to see whether it fits.",
    "There is no big project needed to start.",
    "You can try it with one team first.",
)

PROBLEM_AGITATE_SOLVE = Structure(
    key="problem-agitate-solve",
    subjects=("{offer_title} for {lead}", "An idea for {lead}", "An idea for your team"),
    preheaders=("{offer_explained}", "One problem, and a small first step to fix it."),
    picks={
        "problem": (
            "Most {lead} I speak with know exactly where time and money slip away. "
            "The hard part is finding a quiet week to fix it.",
            "Talk to {lead} for five minutes and the same thing comes up: everyone knows what "
            "should improve, but the day job always wins.",
        ),
        "agitate": (
            "Meanwhile the cost keeps adding up in small amounts that never reach a report.",
            "And every month the fix waits, the gap gets a little more expensive and a little "
            "harder to explain.",
        ),
        "easy": EASY_STARTS,
    },
    lines=(
        (("{problem}",),),
        (("{agitate}",),),
        (
            (
                "That is where {offer} comes in.",
                "There is a simpler way. {offer_line}",
                "There is a simpler way.",
            ),
            ("The aim: {proof}.", ""),
            ("{easy}",),
        ),
    ),
)

BEFORE_AFTER_BRIDGE = Structure(
    key="before-after-bridge",
    subjects=("{Proof}?", "What changes after {offer}", "Before and after, in three short lines"),
    preheaders=("Two versions of the next quarter, and how to get from one to the other.",),
    picks={"easy": EASY_STARTS},
    lines=(
        (("Picture two versions of the next quarter for {who}.",),),
        (
            (
                "In the first, nothing changes: the same workarounds, the same blind spots, the "
                "same meetings about numbers nobody quite trusts.",
            ),
        ),
        (
            (
                "In the second, you start with {offer}, aiming for {proof}.",
                "In the second, you start with {offer}.",
                "In the second, one small change is in place and measured from day one.",
            ),
        ),
        (("Getting from the first to the second is smaller than it sounds.",), ("{easy}",)),
    ),
)

CASE_STUDY = Structure(
    key="case study",
    subjects=("How {offer} works, step by step", "What the first month looks like"),
    preheaders=("Three steps, one clear result, and no obligation.",),
    lines=(
        (
            (
                "Here is how {offer} usually runs for {lead}, step by step:",
                "Here is how working with us usually runs for {lead}, step by step:",
            ),
        ),
        (
            (
                "1. A short call to learn how your team works today.\n"
                "2. We do the groundwork and share what we find, in plain language.\n"
                "3. You decide what to act on, with no obligation either way.",
            ),
        ),
        (("What we aim for: {proof}.", ""),),
    ),
)

QUICK_QUESTION = Structure(
    key="quick question",
    subjects=("{quick}",),
    preheaders=("Are you the right person to ask? One line back is enough.",),
    picks={"quick": ("Quick question", "One quick question"), "easy": EASY_STARTS},
    lines=(
        (
            (
                "One quick question: are you the right person to talk to about {offer} at {company}?",
                "One quick question: are you the right person at {company} to talk to about this?",
            ),
        ),
        (("The short version: {proof}.", "{offer_explained}", ""), ("{easy}",)),
    ),
)

BREAK_UP = Structure(
    key="break-up",
    subjects=("{closing}",),
    preheaders=("No hard feelings either way.",),
    picks={"closing": ("Should I close the file?", "Closing the loop", "Last note from me")},
    lines=(
        (
            (
                "I have written a couple of times about {offer} and have not heard back, so I will "
                "take it that the timing is not right.",
                "I have written a couple of times and have not heard back, so I will take it that "
                "the timing is not right.",
            ),
        ),
        (("If that is the case, no reply is needed and I will not write again.",),),
    ),
)

EMAIL_STRUCTURES = (PROBLEM_AGITATE_SOLVE, BEFORE_AFTER_BRIDGE, QUICK_QUESTION, CASE_STUDY, BREAK_UP)

# The break-up email asks for one word, not a meeting; the others ask with the brief's CTA.
CLOSINGS = {
    "break-up": "If it is still on your list, one word back is enough and I will pick it up from there.",
}
AFTER_CLOSING = {
    "quick question": "If someone else looks after this, a name is all I need. Thank you!",
    "break-up": "Thank you for reading, and good luck with the rest of the quarter.",
}


def _closing(facts: BriefFacts) -> str:
    return facts.cta.line(
        question="{cta}? A one-line reply is enough.",
        imperative="Want to {cta_lower}? Just reply to this email.",
        statement="{cta}: just reply to this email.",
    )


def _html(body: str) -> str:
    return "".join(
        f"<p>{html.escape(p, quote=False).replace(chr(10), '<br>')}</p>" for p in body.split("\n\n")
    )


def write_email(structure: Structure, facts: BriefFacts) -> CreativeDraft:
    slots = structure.slots(facts, {**facts.slots(), "company": COMPANY})
    paragraphs = structure.render_lines(slots)
    paragraphs.append(CLOSINGS.get(structure.key) or _closing(facts))
    if structure.key in AFTER_CLOSING:
        paragraphs.append(AFTER_CLOSING[structure.key])
    greeting = GREETINGS.get(facts.tone, GREETING)
    sign_off = SIGN_OFFS.get(facts.tone, SIGN_OFF)
    body = "\n\n".join([greeting, *paragraphs, sign_off]) + EMAIL_FOOTER
    return CreativeDraft(
        angle=structure.key,
        subject=first_fit(structure.subjects, slots, SUBJECT_LIMIT),
        preheader=first_fit(structure.preheaders, slots, PREHEADER_LIMIT),
        body=body,
        body_html=_html(body),
        cta=facts.cta.text,
    )
