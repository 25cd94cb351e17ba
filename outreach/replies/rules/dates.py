"""The return date an out-of-office reply states, in English, German, French and Spanish.

"back on 14 March", "returning Monday, March 16th", "zurück am 14.03.", "ab dem 16. März wieder im
Büro", "de retour le 14 mars", "regreso el 14 de marzo", "hasta el 13/03/2026"… A date is taken
only after a return phrase ("back", "zurück", "de retour", "regreso", …) or an until phrase
("until", "bis", "jusqu'au", "hasta", …), so a quoted send date or "since 2 March" is not
mistaken for it. Numeric dates are day first (dd.mm., dd/mm/yyyy) unless only month first is a
valid date; ISO dates are read as such. A date without a year is the next such date on or after the
day the reply was written. "until X inclusive" ("bis einschließlich", "jusqu'au … inclus") means
back the day after."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

MONTHS = {
    # English
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
    # German (umlauts are folded before matching: märz -> marz)
    "januar": 1, "janner": 1, "februar": 2, "marz": 3, "maerz": 3, "mrz": 3, "mai": 5, "juni": 6,
    "juli": 7, "oktober": 10, "okt": 10, "dezember": 12, "dez": 12,
    # French (accents folded: février -> fevrier, août -> aout, décembre -> decembre)
    "janvier": 1, "janv": 1, "fevrier": 2, "fevr": 2, "mars": 3, "avril": 4, "avr": 4, "juin": 6,
    "juillet": 7, "juil": 7, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
    # Spanish
    "enero": 1, "ene": 1, "febrero": 2, "marzo": 3, "abril": 4, "abr": 4, "mayo": 5, "junio": 6,
    "julio": 7, "agosto": 8, "ago": 8, "septiembre": 9, "setiembre": 9, "octubre": 10,
    "noviembre": 11, "diciembre": 12, "dic": 12,
}  # fmt: skip
WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
    "montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4, "samstag": 5, "sonntag": 6,
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6,
    "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5, "domingo": 6,
}  # fmt: skip

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_ORD = r"(?:st|nd|rd|th|er|\.|º|o)?"
DATE_PATTERNS = (
    ("iso", re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")),
    ("numeric", re.compile(r"\b(\d{1,2})[./-](\d{1,2})(?:[./-](\d{2,4}))?(?![\d/])\.?")),
    # 14 March 2026, 14. März, 14 de marzo de 2026, le 14 mars
    (
        "day_month",
        re.compile(
            rf"\b(\d{{1,2}}){_ORD}\s*(?:de\s+|of\s+)?({_MONTH})\b\.?(?:,?\s*(?:de\s+|del\s+)?(\d{{4}}))?",
        ),
    ),
    # March 14, 2026 / March 14th
    ("month_day", re.compile(rf"\b({_MONTH})\b\.?\s+(\d{{1,2}}){_ORD}(?:,?\s*(\d{{4}}))?(?!\d)")),
    ("weekday", re.compile(rf"\b({_WEEKDAY})\b")),
)
RETURN_TRIGGER = re.compile(
    r"\b(back|return(ing|s)?|"
    r"zur[uü]ck|wieder( im b[uü]ro| erreichbar| da)?|ab dem|ab|"
    r"de retour|retour|je reviens|rentre|[àa] partir du|"
    r"regreso|regresar[ée]|vuelta|volver[ée]|a partir del)\b",
    re.IGNORECASE,
)
UNTIL_TRIGGER = re.compile(
    r"\b(until|till|through|thru|to|bis( zum| einschlie(ss|ß)lich)?|jusqu'?au|au|"
    r"hasta( el)?|al)\b",
    re.IGNORECASE,
)
INCLUSIVE = re.compile(r"einschlie(ss|ß)lich|inclusive|inclus|incluido|inclusive", re.IGNORECASE)
WINDOW = 45  # characters between a trigger and its date


def _fold(text: str) -> str:
    """Lower case without accents, same length as the input (so match offsets stay valid)."""
    out = []
    for char in text.lower():
        base = unicodedata.normalize("NFKD", char)[0]
        out.append(base if len(base) == 1 else char)
    return "".join(out)


def _year_for(month: int, day: int, written: dt.date) -> dt.date | None:
    for year in (written.year, written.year + 1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            return None
        if candidate >= written - dt.timedelta(days=1):
            return candidate
    return None


def _build(day: int, month: int, year: str | None, written: dt.date) -> dt.date | None:
    if year:
        number = int(year)
        number += 2000 if number < 100 else 0
        try:
            return dt.date(number, month, day)
        except ValueError:
            return None
    return _year_for(month, day, written)


def _to_date(kind: str, match: re.Match[str], written: dt.date) -> dt.date | None:
    groups = match.groups()
    if kind == "iso":
        try:
            return dt.date(int(groups[0]), int(groups[1]), int(groups[2]))
        except ValueError:
            return None
    if kind == "numeric":
        first, second, year = int(groups[0]), int(groups[1]), groups[2]
        if first == 0 or second == 0:
            return None
        # Day first (Europe, and most English outside the US); month first only when it must be.
        if second <= 12:
            return _build(first, second, year, written)
        if first <= 12:
            return _build(second, first, year, written)
        return None
    if kind == "day_month":
        return _build(int(groups[0]), MONTHS[groups[1]], groups[2], written)
    if kind == "month_day":
        return _build(int(groups[1]), MONTHS[groups[0]], groups[2], written)
    weekday = WEEKDAYS[groups[0]]
    ahead = (weekday - written.weekday()) % 7 or 7
    return written + dt.timedelta(days=ahead)


def _dates(folded: str, written: dt.date) -> list[tuple[int, int, dt.date, str]]:
    """Every date in the text: (start, end, date, kind), without overlaps (earlier kinds win)."""
    found: list[tuple[int, int, dt.date, str]] = []
    for kind, pattern in DATE_PATTERNS:
        for match in pattern.finditer(folded):
            if any(s < match.end() and match.start() < e for s, e, _, _ in found):
                continue
            value = _to_date(kind, match, written)
            # "Monday, 16 March": the weekday only names the date that follows it.
            if kind == "weekday" and re.match(rf"[\s,.]{{0,3}}(\d|(?:{_MONTH})\b)", folded[match.end() :]):
                continue
            if value is not None:
                found.append((match.start(), match.end(), value, kind))
    return sorted(found)


def _after_trigger(folded: str, trigger: re.Pattern[str], dates) -> tuple[dt.date, int] | None:
    for match in trigger.finditer(folded):
        for start, end, value, _kind in dates:
            if match.end() <= start <= match.end() + WINDOW:
                between = folded[match.end() : start]
                # Another sentence in between: the date belongs to something else.
                if re.search(r"[.!?]\s+[A-Za-z]", between) or "\n\n" in between:
                    break
                return value, end
    return None


def parse_return_date(text: str, written: dt.date) -> dt.date | None:
    """The stated return date, or None. ``written`` is the day the reply was sent."""
    folded = _fold(text or "")
    dates = _dates(folded, written)
    if not dates:
        return None
    back = _after_trigger(folded, RETURN_TRIGGER, dates)
    if back:
        return back[0]
    until = _after_trigger(folded, UNTIL_TRIGGER, dates)
    if until:
        value, end = until
        if INCLUSIVE.search(folded[end : end + 15]) or INCLUSIVE.search(folded[max(0, end - 40) : end]):
            return value + dt.timedelta(days=1)
        return value
    return None
