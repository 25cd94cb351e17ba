"""Which column of a file holds which lead field: the header aliases and an explicit mapping."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from campaigns.errors import DomainError

# Lead fields a file can fill, in the order the staging rows carry them.
IMPORTABLE_FIELDS = (
    "first_name",
    "last_name",
    "title",
    "company",
    "company_size",
    "industry",
    "country",
    "timezone",
    "linkedin_url",
)
MAPPABLE_FIELDS = ("email", "full_name", *IMPORTABLE_FIELDS)

# Header spellings seen in exports from CRMs, finders and spreadsheets; compared after dropping
# case, accents and everything that is not a letter or digit ("E-mail" → "email").
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "emailaddress", "mail", "workemail", "businessemail", "emailid", "courriel"),
    "full_name": ("name", "fullname", "contactname", "contact"),
    "first_name": ("firstname", "first", "givenname", "fname", "forename", "vorname", "prenom"),
    "last_name": ("lastname", "last", "surname", "familyname", "lname", "nachname", "nom"),
    "title": ("title", "jobtitle", "position", "role", "designation"),
    "company": (
        *("company", "companyname", "organization", "organisation", "employer", "account"),
        *("firma", "unternehmen", "entreprise", "societe", "empresa"),
    ),
    "company_size": ("companysize", "employees", "employeecount", "headcount", "size", "numberofemployees"),
    "industry": ("industry", "sector", "vertical"),
    "country": ("country", "countrycode", "countryiso", "iso2", "countryname", "land", "pays", "pais"),
    "timezone": ("timezone", "tz", "timezonename"),
    "linkedin_url": (
        "linkedin",
        "linkedinurl",
        "linkedinprofile",
        "linkedinprofileurl",
        "linkedinurlprofile",
    ),
}
ALIAS_TO_FIELD = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}


def header_key(header: str) -> str:
    """Accents dropped before the rest ("Prénom", "Société" → "prenom", "societe")."""
    decomposed = unicodedata.normalize("NFKD", header.strip().lower())
    return re.sub(r"[^0-9a-z]", "", decomposed)


def parse_mapping(text: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"email=Work Email,first_name=Given"`` (or a dict) → {"email": "Work Email", …}."""
    if not text:
        return {}
    if isinstance(text, Mapping):
        pairs = list(text.items())
    else:
        pairs = []
        for part in str(text).split(","):
            if not part.strip():
                continue
            name, eq, column = part.partition("=")
            if not eq:
                raise DomainError(
                    f"Mapping part {part.strip()!r} is not FIELD=COLUMN (e.g. email=Work Email).",
                    field="mapping",
                )
            pairs.append((name, column))
    mapping: dict[str, str] = {}
    for name, column in pairs:
        name = str(name).strip()
        if name not in MAPPABLE_FIELDS:
            raise DomainError(
                f"Unknown lead field {name!r} in the mapping; known fields: {', '.join(MAPPABLE_FIELDS)}.",
                field="mapping",
            )
        mapping[name] = str(column).strip()
    return mapping


@dataclass
class ColumnLayout:
    """Where each lead field sits in the rows of one file."""

    email: int
    fields: dict[str, int]
    mapping: dict[str, str]
    ignored: list[str]


def resolve_columns(header: list[str], mapping: Mapping[str, str] | None = None) -> ColumnLayout:
    positions = {column.strip(): i for i, column in reversed(list(enumerate(header)))}
    keyed = {header_key(column): i for i, column in reversed(list(enumerate(header)))}
    chosen: dict[str, int] = {}
    for name, column in (mapping or {}).items():
        if column in positions:
            chosen[name] = positions[column]
        elif header_key(column) in keyed:
            chosen[name] = keyed[header_key(column)]
        else:
            raise DomainError(
                f"The mapping names column {column!r} for {name}, but the file has no such column; "
                f"its columns are: {', '.join(h.strip() for h in header)}.",
                field="mapping",
            )
    used = set(chosen.values())
    for i, column in enumerate(header):
        name = ALIAS_TO_FIELD.get(header_key(column))
        if name and name not in chosen and i not in used:
            chosen[name] = i
            used.add(i)
    if "email" not in chosen:
        raise DomainError(
            "The file has no email column. Columns found: "
            f"{', '.join(h.strip() for h in header) or '(none)'}. Name one Email (or E-mail, "
            "email_address…) or map it: --mapping email=COLUMN.",
            field="email",
        )
    email_index = chosen.pop("email")
    return ColumnLayout(
        email=email_index,
        fields=chosen,
        mapping={"email": header[email_index].strip(), **{n: header[i].strip() for n, i in chosen.items()}},
        ignored=[h.strip() for i, h in enumerate(header) if i != email_index and i not in used and h.strip()],
    )
