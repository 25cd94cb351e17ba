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
    if name == "llm":
        from .llm import LLMCreativeGenerator, llm_creative_config

        config = llm_creative_config()
        if config is None:
            raise CreativeGenerationError(
                "The LLM creative generator is not configured: set OPENAI_API_KEY or ANTHROPIC_API_KEY."
            )
        return LLMCreativeGenerator(config)
    raise CreativeGenerationError(
        f"Unknown creative generator {name!r}; available: template, llm (with an API key)."
    )
