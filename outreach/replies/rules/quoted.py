"""The new text of a reply: the quoted history, forwarded messages, signatures and disclaimers cut.

Each client marks history its own way; the first marker found ends the new text:
``> `` quote lines; attribution lines ("On … wrote:", "Am … schrieb …:", "Le … a écrit :",
"El … escribió:"), which Gmail wraps over two or three lines; Outlook's "-----Original Message-----"
(in each language) and its "From: … Sent: …" header block; forwarded-message markers; the
signature separator "-- "; "Sent from my iPhone" lines; and confidentiality disclaimers (which
often say "unsubscribe" or "interested parties" and must not be read as the writer's words)."""

from __future__ import annotations

import re

ATTRIBUTION_START = re.compile(r"^\s*(on|am|le|el|op|il)\s.+", re.IGNORECASE)
ATTRIBUTION_END = re.compile(
    r"(wrote|schrieb[^:]*|a\s+[ée]crit|escribi[óo]|schreef|ha\s+scritto)\s*:\s*$", re.IGNORECASE
)
SEPARATORS = re.compile(
    r"^\s*(-{2,}\s*(original message|ursprüngliche nachricht|originalnachricht|message d'origine|"
    r"mensaje original|forwarded message|weitergeleitete nachricht|message transféré|"
    r"mensaje reenviado)\s*-{2,}|begin forwarded message:|anfang der weitergeleiteten nachricht:|"
    r"début du message réexpédié\s*:|inicio del mensaje reenviado:|_{20,})\s*$",
    re.IGNORECASE,
)
# Horde, SquirrelMail and Zimbra webmail: "Quoting Jane Doe <jane@example.com>:".
QUOTING = re.compile(r"^\s*(quoting|zitat von|citation de|cita de)\s.{1,200}:\s*$", re.IGNORECASE)
HEADER_FROM = re.compile(r"^\s*\*?(from|von|de|van)\s*\*?\s*:\s*\S", re.IGNORECASE)
HEADER_NEXT = re.compile(
    r"^\s*\*?(sent|date|to|gesendet|datum|an|envoyé|date|à|enviado|fecha|para|subject|betreff|objet|"
    r"asunto|cc)\s*\*?\s*:",
    re.IGNORECASE,
)
SIGNATURE = re.compile(r"^(-- ?|--|__)\s*$")
MOBILE_FOOTER = re.compile(
    r"^\s*(sent from my |get outlook for |von meinem .+ gesendet|gesendet von meinem |"
    r"envoyé de mon |enviado desde mi )",
    re.IGNORECASE,
)
DISCLAIMER = re.compile(
    r"^\s*(confidentiality notice|disclaimer|this (e-?mail|message)( and any (attachments?|files)[^.]*)? "
    r"(is|are|may be|contains?) (confidential|intended)|diese e-?mail (enthält|ist) vertraulich|"
    r"ce (message|courriel|e-?mail) (et ses pièces jointes )?(est|sont) (confidentiel|strictement)|"
    r"este (mensaje|correo)( electrónico)? (es|y sus anexos son|contiene información) confidencial)",
    re.IGNORECASE,
)


def _is_attribution(lines: list[str], index: int) -> bool:
    """An attribution starts with On/Am/Le/El and ends with "wrote:" within three lines."""
    line = lines[index]
    if ATTRIBUTION_END.search(line) and ATTRIBUTION_START.match(line):
        return True
    if not ATTRIBUTION_START.match(line) or len(line) > 200:
        return False
    joined = line
    for follow in lines[index + 1 : index + 3]:
        joined += " " + follow
        if ATTRIBUTION_END.search(joined.rstrip()):
            return "@" in joined or re.search(r"\d", joined) is not None
    return False


def _is_header_block(lines: list[str], index: int) -> bool:
    """Outlook's quoted header block: "From: …" followed by Sent/Date/To lines."""
    if not HEADER_FROM.match(lines[index]):
        return False
    following = [line for line in lines[index + 1 : index + 5] if line.strip()]
    return sum(1 for line in following if HEADER_NEXT.match(line)) >= 2


def strip_quoted(text: str) -> str:
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if (
            SEPARATORS.match(line)
            or SIGNATURE.match(line)
            or MOBILE_FOOTER.match(line)
            or DISCLAIMER.match(line)
            or QUOTING.match(line)
            or _is_attribution(lines, index)
            or _is_header_block(lines, index)
        ):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()
