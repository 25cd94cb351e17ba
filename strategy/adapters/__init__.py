"""Strategy generator adapters and the choice between them.

The offline template generator is always available and the default; the LLM generator is
offered only when a provider key is configured in the environment.
"""

from __future__ import annotations

from ..ports import StrategyGenerationError, StrategyGenerator
from .llm import LLMStrategyGenerator, llm_config_from_env
from .template import TemplateStrategyGenerator

DEFAULT_GENERATOR = "template"


def available_generators() -> list[str]:
    names = [DEFAULT_GENERATOR]
    if llm_config_from_env() is not None:
        names.append(LLMStrategyGenerator.name)
    return names


def get_generator(name: str | None = None) -> StrategyGenerator:
    name = (name or DEFAULT_GENERATOR).strip().lower()
    if name == TemplateStrategyGenerator.name:
        return TemplateStrategyGenerator()
    if name == LLMStrategyGenerator.name:
        config = llm_config_from_env()
        if config is None:
            raise StrategyGenerationError(
                "The LLM generator is not configured: set OPENAI_API_KEY or ANTHROPIC_API_KEY."
            )
        return LLMStrategyGenerator(config)
    raise StrategyGenerationError(
        f"Unknown strategy generator {name!r}; available: {', '.join(available_generators())}."
    )
