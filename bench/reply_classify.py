"""Reply classification benchmark: the shipped corpus (tests/outreach/replies/corpus, 70+ real-shape
replies: Gmail, Outlook, Apple Mail, Exchange auto-replies, delivery reports, HTML-only) repeated
N times and classified offline, against a bare parse of the same bytes in the same run.

- bare: ``email.message_from_bytes`` (policy ``default``) plus reading the body text, which any
  pipeline that stores a reply has to do anyway: the floor;
- classify: the same parse, then ``outreach.replies.classifier.classify``;

prints messages per second for both, the ratio classify / bare in time, the cost per message (the
offline classifier costs nothing; the figure is the sum of the classifications' ``cost``), and a
check that every repetition gave the corpus's expected category. Not a test: no assertions on time.

    .venv/bin/python bench/reply_classify.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aicmo_site.settings")
CORPUS = ROOT / "tests" / "outreach" / "replies" / "corpus"


def bare(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain", "html"))
    return body.get_content() if body is not None else ""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=200, help="times the corpus is classified")
    args = parser.parse_args()

    from outreach.replies.classifier import classify

    corpus = [(path.parent.name, path.read_bytes()) for path in sorted(CORPUS.glob("*/*.eml"))]
    messages = corpus * args.repeat
    total = len(messages)
    size_kb = sum(len(raw) for _, raw in corpus) // 1024
    print(f"{len(corpus)} corpus replies x {args.repeat} = {total:,} messages ({size_kb} KB per pass)")

    # Warm both paths once (imports, compiled regexes) so neither pays it in the timed run.
    for _, raw in corpus:
        bare(raw)
        classify(email.message_from_bytes(raw, policy=email.policy.default))

    started = time.perf_counter()
    for _, raw in messages:
        bare(raw)
    bare_seconds = time.perf_counter() - started

    wrong: Counter[str] = Counter()
    cost = Decimal("0")
    started = time.perf_counter()
    for expected, raw in messages:
        result = classify(email.message_from_bytes(raw, policy=email.policy.default))
        cost += result.cost
        if result.category != expected:
            wrong[expected] += 1
    classify_seconds = time.perf_counter() - started

    print(f"bare parse + body:   {total / bare_seconds:>10,.0f} messages/s ({bare_seconds:.2f} s)")
    print(f"parse + classify:    {total / classify_seconds:>10,.0f} messages/s ({classify_seconds:.2f} s)")
    print(f"ratio classify / bare (time): {classify_seconds / bare_seconds:.2f}x")
    print(f"classifier cost per message: {cost / total:.6f} (offline)")
    print(f"misclassified: {sum(wrong.values())} of {total}" + (f" {dict(wrong)}" if wrong else ""))


if __name__ == "__main__":
    main()
