"""Creative generator adapters: the offline template generator (default) and the LLM one."""

from __future__ import annotations

from ..errors import CreativeGenerationError
from ..ports import CreativeGenerator
from .template import TemplateCreativeGenerator

DEFAULT_GENERATOR = "template"


def get_creative_generator(name: str | None = None) -> CreativeGenerator:
    name = (name or DEFAULT_GENERATOR).strip().lower()
    if name == TemplateCreativeGenerator.name:
        return TemplateCreativeGenerator()
    raise CreativeGenerationError(f"Unknown creative generator {name!r}; available: template.")
