"""Deterministic offline creative generator: same request, same drafts; no network, no keys.

The copy comes from ``creative.copy_library``: proven structures (problem-agitate-solve,
before-after-bridge, a quick question, a walk-through, a break-up email; per-platform post
structures) filled with whole phrases of the brief, so variants are real alternatives and no
field is cut mid-phrase. Emails carry the merge fields and the CAN-SPAM footer placeholders;
social posts stay inside their platform's limits.
"""

from __future__ import annotations

from ..copy_library import MAX_VARIANTS, write_drafts
from ..ports import CreativeRequest, GenerationResult


class TemplateCreativeGenerator:
    name = "template"

    def generate(self, request: CreativeRequest) -> GenerationResult:
        if not 1 <= request.variants <= MAX_VARIANTS:
            raise ValueError(f"variants must be between 1 and {MAX_VARIANTS}, got {request.variants}")
        return GenerationResult(drafts=write_drafts(request), generator=self.name)
