"""The shipped reply corpus: real-shape .eml files, one folder per expected category."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*/*.eml"))


def load(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def expected_category(path: Path) -> str:
    return path.parent.name


def name(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"
