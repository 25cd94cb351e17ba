"""How a structure is written down and filled.

A structure is lines of sentences. Each sentence is a fallback chain of templates: the first one
whose brief fields are all there (and, for subjects and preheaders, that fits the limit) is used;
a chain may end in "" to leave the sentence out. ``picks`` are phrasings chosen by the brief's
hash, so two campaigns do not read the same while one request always gives the same drafts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .phrases import BriefFacts, fill, first_fit

Chain = tuple[str, ...]
Line = tuple[Chain, ...]


@dataclass(frozen=True)
class Structure:
    key: str  # stored as the variant's angle
    lines: tuple[Line, ...]
    subjects: Chain = ()
    preheaders: Chain = ()
    picks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    media_notes: str = ""

    def slots(self, facts: BriefFacts, base: dict[str, str]) -> dict[str, str]:
        picked = {name: facts.pick(options, self.key, name) for name, options in self.picks.items()}
        # A picked phrasing may itself name brief fields ("Most {lead} I speak with …").
        return {**base, **{name: fill(text, base) or "" for name, text in picked.items()}}

    def render_lines(self, slots: dict[str, str]) -> list[str]:
        lines = []
        for line in self.lines:
            text = " ".join(s for s in (first_fit(chain, slots) for chain in line) if s)
            if text:
                lines.append(text)
        return lines
