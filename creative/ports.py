"""The creative generator port: one interface, an offline template adapter (default) and an LLM one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class CreativeRequest:
    platform: str  # email, linkedin, instagram, x
    campaign_name: str
    campaign_type: str
    pillar: str
    audience: str
    offer: str
    cta: str
    tone: str = "professional"
    constraints: str = ""
    variants: int = 3


@dataclass(frozen=True)
class CreativeDraft:
    angle: str
    subject: str = ""
    preheader: str = ""
    body: str = ""
    body_html: str = ""
    cta: str = ""
    hashtags: tuple[str, ...] = field(default_factory=tuple)
    media_notes: str = ""


@dataclass(frozen=True)
class GenerationResult:
    drafts: list[CreativeDraft]
    generator: str
    cost: float = 0.0  # in the campaign's currency; the offline generator costs nothing
    tokens: int = 0


class CreativeGenerator(Protocol):
    name: str

    def generate(self, request: CreativeRequest) -> GenerationResult: ...
