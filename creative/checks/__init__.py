"""Quality checks on creative before review: a registry of small functions returning findings.

Each check declares the channels/platforms it applies to and returns zero or more `Finding`s.
Errors block approval unless an operator overrides them with a rationale; warnings inform.
Importing this package registers every check (the modules below register on import, in order).
"""

from __future__ import annotations

# Importing a module registers its checks; findings come out in this order (limits first, as shown
# to reviewers since the first checks).
# isort: off
from . import platform  # noqa: F401
from . import compliance  # noqa: F401
from . import writing  # noqa: F401
from . import spam  # noqa: F401

# isort: on
from .base import (
    DEFAULT_SPAM_PHRASES,
    ERROR,
    INFO,
    WARNING,
    Check,
    CheckSettings,
    CreativeContent,
    Finding,
    blocking,
    register_check,
    run_checks,
)
from .platform import LIMITS, URL, X_URL_LENGTH, post_text, x_length
from .writing import WRITING_CODES, doubled_punctuation, hashtag_problem, sentences

__all__ = [
    "DEFAULT_SPAM_PHRASES",
    "ERROR",
    "INFO",
    "LIMITS",
    "URL",
    "WARNING",
    "WRITING_CODES",
    "X_URL_LENGTH",
    "Check",
    "CheckSettings",
    "CreativeContent",
    "Finding",
    "blocking",
    "doubled_punctuation",
    "hashtag_problem",
    "post_text",
    "register_check",
    "run_checks",
    "sentences",
    "x_length",
]
