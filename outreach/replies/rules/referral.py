"""The address a "wrong person" reply refers us to: an address written in the new text (the one
nearest a referral phrase when there are several), else a Cc'd colleague. The writer's own
address and ours are never the referral."""

from __future__ import annotations

import re
from collections.abc import Iterable

EMAIL = re.compile(
    r"(?<![\w.+-])([A-Za-z0-9][A-Za-z0-9._%+'-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
)
REFERRAL_WORDS = re.compile(
    r"(contact|reach|speak|talk|write|forward|cc|copied|responsible|handles|looks after|right person|"
    r"kontakt|wenden|zust[äa]ndig|weitergeleitet|ansprechpartner|contacter|[ée]crire|charge|transf[ée]r|"
    r"s'occupe|contacte|escriba|encarga|reenviado|persona)",
    re.IGNORECASE,
)


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower()


def extract_referred_email(
    text: str,
    *,
    exclude: Iterable[str],
    cc: Iterable[str] = (),
    to: Iterable[str] = (),
    sender: str = "",
) -> str:
    """``exclude``: the writer and our own addresses. Without an address in the text, a colleague
    on the To/Cc line is the referral: one at the writer's own domain first (a referral is nearly
    always a colleague; our mailbox is on the To line of a plain reply), else the first Cc."""
    excluded = {address.lower() for address in exclude if address} | {sender.lower()}
    found = [
        (match.start(), match.group(1).lower().rstrip("."))
        for match in EMAIL.finditer(text or "")
        if match.group(1).lower().rstrip(".") not in excluded
    ]
    if found:
        if len(found) == 1:
            return found[0][1]
        cues = [match.start() for match in REFERRAL_WORDS.finditer(text)]
        if cues:
            return min(found, key=lambda item: min(abs(item[0] - cue) for cue in cues))[1]
        return found[0][1]
    cc_list = [a.lower() for a in cc if a and a.lower() not in excluded]
    to_list = [a.lower() for a in to if a and a.lower() not in excluded]
    if sender:
        colleagues = [a for a in [*cc_list, *to_list] if _domain(a) == _domain(sender)]
        if colleagues:
            return colleagues[0]
    return cc_list[0] if cc_list else ""
