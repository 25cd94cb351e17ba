"""Platform SOPs (WHERE, HOW step by step, TIPS, COMMON MISTAKES), kept as versioned data files.

`data/sops-vN.json` holds one version; the newest is used for new tasks and each task stores the
version it was created with, so an SOP edit never rewrites what an operator was told.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class SOP:
    key: str
    version: int
    title: str
    where: str
    how: tuple[str, ...]
    tips: tuple[str, ...]
    common_mistakes: tuple[str, ...]

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "version": self.version,
            "title": self.title,
            "where": self.where,
            "how": list(self.how),
            "tips": list(self.tips),
            "common_mistakes": list(self.common_mistakes),
        }


def available_versions() -> list[int]:
    return sorted(
        int(m.group(1))
        for p in DATA_DIR.glob("sops-v*.json")
        if (m := re.fullmatch(r"sops-v(\d+)\.json", p.name))
    )


@cache
def _load(version: int) -> dict[str, SOP]:
    raw = json.loads((DATA_DIR / f"sops-v{version}.json").read_text(encoding="utf-8"))
    return {
        key: SOP(
            key=key,
            version=raw["version"],
            title=item["title"],
            where=item["where"],
            how=tuple(item["how"]),
            tips=tuple(item["tips"]),
            common_mistakes=tuple(item["common_mistakes"]),
        )
        for key, item in raw["sops"].items()
    }


def get_sop(platform: str, content_type: str = "post", version: int | None = None) -> SOP:
    """The SOP for a platform and content type, falling back to the platform's plain post."""
    version = version or available_versions()[-1]
    sops = _load(version)
    for key in (f"{platform}:{content_type}", f"{platform}:post", f"{platform}:newsletter"):
        if key in sops:
            return sops[key]
    known = ", ".join(sorted(sops))
    raise KeyError(f"No SOP for {platform}:{content_type} in version {version}; known: {known}")
