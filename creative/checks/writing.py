"""Copy a reader would take for a mistake: text cut off with an ellipsis, a sentence said twice,
doubled punctuation, a hashtag that is a fragment, and template code in a subject or preheader.

Every ellipsis counts as a truncation ("…" or three dots, anywhere): generated and edited copy
alike are written to end their sentences, and a reviewer who wants a trailing "…" for effect
overrides the finding with a reason. Because three dots are always an ellipsis here, the doubled
punctuation check leaves them to this rule and reports every other run (".." ",," "!!" "?.").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..personalization import MERGE_FIELD, TEMPLATE_LIKE
from .base import ERROR, CheckSettings, CreativeContent, Finding, register_check
from .platform import URL

ELLIPSIS = re.compile(r"…|\.{3,}|\.(?: \.){2,}")
PUNCTUATION_RUN = re.compile(r"[.,;:!?]{2,}")
# ".," after these is an abbreviation ("e.g.,", "U.S.,", "etc.,"), not a doubled mark.
ABBREVIATIONS = frozenset(
    {"etc", "inc", "ltd", "co", "corp", "vs", "approx", "dept", "no", "mr", "mrs", "ms", "dr"}
)
INITIALS = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
MIN_REPEATED_WORDS = 3  # "Thank you." twice is a style choice; a longer sentence twice is a paste error
INLINE_HASHTAG = re.compile(r"(?<![\w&#/])#([^\W\d]\w*)")
CAMEL_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+|[^\W\d_]+")
# A hashtag ending in one of these was cut from a longer phrase ("#ListBuildingAnd").
DANGLING_WORDS = frozenset(
    {
        "a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "nor", "of", "on",
        "or", "our", "than", "the", "their", "to", "via", "with", "your",
    }
)  # fmt: skip
WHOLE_TAGS_ENDING_IN_A_DANGLING_WORD = ("howto",)
WRITING_CODES = frozenset(
    {"ellipsis", "punctuation_doubled", "sentence_repeated", "hashtag_broken", "template_in_subject"}
)


def _without_urls(text: str) -> str:
    return URL.sub(" ", text or "")


def _context_before(text: str, end: int, words: int = 3) -> str:
    return " ".join(text[:end].split()[-words:])


@register_check()
def check_ellipsis(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    for name, text in content.reader_fields():
        clean = _without_urls(text)
        found = ELLIPSIS.search(clean)
        if found:
            before = _context_before(clean, found.start())
            where = f" after “{before}”" if before else ""
            yield Finding(
                "ellipsis",
                ERROR,
                f"The {name} has an ellipsis{where}: it reads as text cut off mid-phrase. "
                "Finish the sentence or shorten it to a whole phrase.",
            )


def _is_abbreviation(text: str, run_start: int, run: str) -> bool:
    if run[0] != "." or len(run) != 2 or run[1] not in ",;:":
        return False
    token = re.search(r"(\S*)$", text[:run_start]).group(1)
    return token.lower() in ABBREVIATIONS or bool(INITIALS.fullmatch(token))


def doubled_punctuation(text: str) -> list[str]:
    """Runs of sentence punctuation that are not an ellipsis or an abbreviation's dot."""
    clean = _without_urls(text)
    return [
        m.group(0)
        for m in PUNCTUATION_RUN.finditer(clean)
        if "..." not in m.group(0) and not _is_abbreviation(clean, m.start(), m.group(0))
    ]


@register_check()
def check_doubled_punctuation(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    for name, text in content.reader_fields():
        runs = list(dict.fromkeys(doubled_punctuation(text)))
        if runs:
            shown = ", ".join(f"“{r}”" for r in runs)
            yield Finding("punctuation_doubled", ERROR, f"The {name} has doubled punctuation: {shown}.")


def sentences(text: str) -> list[str]:
    return [s.strip() for line in (text or "").splitlines() for s in SENTENCE_END.split(line) if s.strip()]


def _normalised(sentence: str) -> str:
    return " ".join(sentence.lower().split()).rstrip(".!?;:, ")


@register_check()
def check_repeated_sentence(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    for name, text in content.reader_fields():
        seen: set[str] = set()
        repeated: list[str] = []
        for sentence in sentences(text):
            key = _normalised(sentence)
            if len(key.split()) < MIN_REPEATED_WORDS:
                continue
            if key in seen and sentence not in repeated:
                repeated.append(sentence)
            seen.add(key)
        for sentence in repeated:
            yield Finding("sentence_repeated", ERROR, f"The {name} says this twice: “{sentence}”.")


def hashtag_problem(tag: str, max_chars: int = CheckSettings.hashtag_max_chars) -> str | None:
    """Why ``tag`` (with or without "#") is not a usable hashtag, or None. The offline generator
    filters its own tags with this rule, so what it writes always passes the check."""
    bare = (tag or "").strip().lstrip("#")
    if not bare:
        return "is empty"
    if ELLIPSIS.search(bare):
        return "is cut off"
    if not re.fullmatch(r"\w+", bare):
        return "holds characters a hashtag cannot (only letters, digits and _)"
    if bare.isdigit():
        return "is only digits, which platforms do not link"
    if len(bare) > max_chars:
        return f"is {len(bare)} characters; over {max_chars} it is a sentence squeezed together"
    if bare.endswith("_"):
        return "ends with “_”, a fragment"
    words = CAMEL_WORDS.findall(bare)
    last = words[-1] if words else ""
    if (
        len(words) > 1
        and last.lower() in DANGLING_WORDS
        and not bare.lower().endswith(WHOLE_TAGS_ENDING_IN_A_DANGLING_WORD)
    ):
        return f"ends with “{last}”: a phrase cut in the middle"
    return None


@register_check()
def check_hashtags(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    tags = list(content.hashtags)
    if content.platform != "email":
        tags += INLINE_HASHTAG.findall(content.body)
    for tag in dict.fromkeys(tags):
        problem = hashtag_problem(tag, settings.hashtag_max_chars)
        if problem:
            yield Finding("hashtag_broken", ERROR, f"Hashtag “#{tag.strip().lstrip('#')}” {problem}.")


@register_check()
def check_template_in_subject(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    """A subject or preheader is plain text: it also names the variant in lists, sequence steps and
    operator tasks, where a merge field shows as raw "{{ … }}". Known merge fields are allowed
    there only when ``settings.merge_fields_in_subject`` is on; other template code never is."""
    for name, text in (("subject", content.subject), ("preheader", content.preheader)):
        fragments = [m.group(0) for m in TEMPLATE_LIKE.finditer(text or "")]
        if settings.merge_fields_in_subject:
            fragments = [f for f in fragments if not MERGE_FIELD.fullmatch(f)]
        stray = re.search(r"\{\{|\}\}|\{%|%\}", TEMPLATE_LIKE.sub("", text or ""))
        if stray:
            fragments.append(stray.group(0))
        if fragments:
            yield Finding(
                "template_in_subject",
                ERROR,
                f"The {name} contains template code {fragments[0]!r}: write it as plain text "
                "(it is shown as it is in lists, sequence steps and tasks).",
            )
