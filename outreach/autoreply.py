"""Recognise automatic replies (out of office, vacation) so they never count as real replies.

The rule lives in the reply classifier (``outreach.replies.rules.headers``); this is the thin
entry point the inbound-webhook path has always called."""

from __future__ import annotations

from collections.abc import Mapping

from .replies.rules.headers import AUTO_SUBJECT, auto_reply_signal

__all__ = ["AUTO_SUBJECT", "is_auto_reply"]


def is_auto_reply(headers: Mapping[str, str], subject: str = "") -> bool:
    return bool(auto_reply_signal(headers, subject))
