"""Platform limits: post length (X counts every link as 23 characters), Instagram's hashtag cap,
and an email's subject line."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .base import ERROR, CheckSettings, CreativeContent, Finding, register_check

URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
X_URL_LENGTH = 23  # X counts every link as 23 characters, whatever its length
LIMITS = {"x": 280, "linkedin": 3000, "instagram": 2200}


def post_text(content: CreativeContent) -> str:
    tags = " ".join(f"#{t.lstrip('#')}" for t in content.hashtags)
    return f"{content.body}\n\n{tags}".strip() if tags else content.body


def x_length(text: str) -> int:
    return len(URL.sub("x" * X_URL_LENGTH, text))


@register_check("x", "linkedin", "instagram")
def check_length(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    limit = LIMITS[content.platform]
    text = post_text(content)
    length = x_length(text) if content.platform == "x" else len(text)
    if length > limit:
        how = " (links count as 23)" if content.platform == "x" else ""
        yield Finding("length", ERROR, f"{length} characters{how}; {content.platform} allows {limit}.")


@register_check("instagram")
def check_hashtag_count(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    count = len(content.hashtags) + len(re.findall(r"(?<!\w)#\w+", content.body))
    if count > settings.hashtag_limit_instagram:
        yield Finding(
            "hashtags",
            ERROR,
            f"{count} hashtags; Instagram allows at most {settings.hashtag_limit_instagram}.",
        )


@register_check("email")
def check_subject(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    if not content.subject.strip():
        yield Finding("subject_missing", ERROR, "The email has no subject line.")
    elif len(content.subject) > settings.subject_max_chars:
        # Blocking: the end of a subject is where the point usually is, and inboxes cut it off.
        yield Finding(
            "subject_long",
            ERROR,
            f"Subject is {len(content.subject)} characters; at most {settings.subject_max_chars} "
            "fit in most inboxes, the rest is cut off.",
        )
