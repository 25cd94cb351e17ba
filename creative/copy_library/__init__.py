"""The offline generator's library of proven copy structures, filled with whole phrases of the
brief (``phrases``): emails in ``emails``, social posts per platform in ``posts``."""

from __future__ import annotations

from ..ports import CreativeDraft, CreativeRequest
from .emails import EMAIL_STRUCTURES, write_email
from .phrases import BriefFacts, brief_facts
from .posts import POST_STRUCTURES, write_post
from .structures import Structure

MAX_VARIANTS = 5


def structures_for(platform: str) -> tuple[Structure, ...]:
    if platform == "email":
        return EMAIL_STRUCTURES
    try:
        return POST_STRUCTURES[platform]
    except KeyError:
        known = ", ".join(["email", *POST_STRUCTURES])
        raise ValueError(f"no copy structures for platform {platform!r}; known: {known}") from None


def angles_for(platform: str) -> tuple[str, ...]:
    """The structures' names in order: the angles variants take (also asked of the LLM)."""
    return tuple(s.key for s in structures_for(platform))


def write_drafts(request: CreativeRequest) -> list[CreativeDraft]:
    facts = brief_facts(request)
    chosen = structures_for(request.platform)[: request.variants]
    if request.platform == "email":
        return [write_email(structure, facts) for structure in chosen]
    return [write_post(request.platform, structure, facts) for structure in chosen]


__all__ = [
    "EMAIL_STRUCTURES",
    "MAX_VARIANTS",
    "POST_STRUCTURES",
    "BriefFacts",
    "Structure",
    "angles_for",
    "brief_facts",
    "structures_for",
    "write_drafts",
]
