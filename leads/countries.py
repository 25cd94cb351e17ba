"""ISO 3166-1 alpha-2 country codes (from the tz database's iso3166.tab), the one function that turns
what people write in a country column into such a code, and consent regions."""

from __future__ import annotations

import functools
import gettext
import re
import unicodedata

import pycountry

COUNTRY_NAMES: dict[str, str] = {
    "AD": "Andorra",
    "AE": "United Arab Emirates",
    "AF": "Afghanistan",
    "AG": "Antigua & Barbuda",
    "AI": "Anguilla",
    "AL": "Albania",
    "AM": "Armenia",
    "AO": "Angola",
    "AQ": "Antarctica",
    "AR": "Argentina",
    "AS": "Samoa (American)",
    "AT": "Austria",
    "AU": "Australia",
    "AW": "Aruba",
    "AX": "Åland Islands",
    "AZ": "Azerbaijan",
    "BA": "Bosnia & Herzegovina",
    "BB": "Barbados",
    "BD": "Bangladesh",
    "BE": "Belgium",
    "BF": "Burkina Faso",
    "BG": "Bulgaria",
    "BH": "Bahrain",
    "BI": "Burundi",
    "BJ": "Benin",
    "BL": "St Barthelemy",
    "BM": "Bermuda",
    "BN": "Brunei",
    "BO": "Bolivia",
    "BQ": "Caribbean NL",
    "BR": "Brazil",
    "BS": "Bahamas",
    "BT": "Bhutan",
    "BV": "Bouvet Island",
    "BW": "Botswana",
    "BY": "Belarus",
    "BZ": "Belize",
    "CA": "Canada",
    "CC": "Cocos (Keeling) Islands",
    "CD": "Congo (Dem. Rep.)",
    "CF": "Central African Rep.",
    "CG": "Congo (Rep.)",
    "CH": "Switzerland",
    "CI": "Côte d'Ivoire",
    "CK": "Cook Islands",
    "CL": "Chile",
    "CM": "Cameroon",
    "CN": "China",
    "CO": "Colombia",
    "CR": "Costa Rica",
    "CU": "Cuba",
    "CV": "Cape Verde",
    "CW": "Curaçao",
    "CX": "Christmas Island",
    "CY": "Cyprus",
    "CZ": "Czech Republic",
    "DE": "Germany",
    "DJ": "Djibouti",
    "DK": "Denmark",
    "DM": "Dominica",
    "DO": "Dominican Republic",
    "DZ": "Algeria",
    "EC": "Ecuador",
    "EE": "Estonia",
    "EG": "Egypt",
    "EH": "Western Sahara",
    "ER": "Eritrea",
    "ES": "Spain",
    "ET": "Ethiopia",
    "FI": "Finland",
    "FJ": "Fiji",
    "FK": "Falkland Islands",
    "FM": "Micronesia",
    "FO": "Faroe Islands",
    "FR": "France",
    "GA": "Gabon",
    "GB": "Britain (UK)",
    "GD": "Grenada",
    "GE": "Georgia",
    "GF": "French Guiana",
    "GG": "Guernsey",
    "GH": "Ghana",
    "GI": "Gibraltar",
    "GL": "Greenland",
    "GM": "Gambia",
    "GN": "Guinea",
    "GP": "Guadeloupe",
    "GQ": "Equatorial Guinea",
    "GR": "Greece",
    "GS": "South Georgia & the South Sandwich Islands",
    "GT": "Guatemala",
    "GU": "Guam",
    "GW": "Guinea-Bissau",
    "GY": "Guyana",
    "HK": "Hong Kong",
    "HM": "Heard Island & McDonald Islands",
    "HN": "Honduras",
    "HR": "Croatia",
    "HT": "Haiti",
    "HU": "Hungary",
    "ID": "Indonesia",
    "IE": "Ireland",
    "IL": "Israel",
    "IM": "Isle of Man",
    "IN": "India",
    "IO": "British Indian Ocean Territory",
    "IQ": "Iraq",
    "IR": "Iran",
    "IS": "Iceland",
    "IT": "Italy",
    "JE": "Jersey",
    "JM": "Jamaica",
    "JO": "Jordan",
    "JP": "Japan",
    "KE": "Kenya",
    "KG": "Kyrgyzstan",
    "KH": "Cambodia",
    "KI": "Kiribati",
    "KM": "Comoros",
    "KN": "St Kitts & Nevis",
    "KP": "Korea (North)",
    "KR": "Korea (South)",
    "KW": "Kuwait",
    "KY": "Cayman Islands",
    "KZ": "Kazakhstan",
    "LA": "Laos",
    "LB": "Lebanon",
    "LC": "St Lucia",
    "LI": "Liechtenstein",
    "LK": "Sri Lanka",
    "LR": "Liberia",
    "LS": "Lesotho",
    "LT": "Lithuania",
    "LU": "Luxembourg",
    "LV": "Latvia",
    "LY": "Libya",
    "MA": "Morocco",
    "MC": "Monaco",
    "MD": "Moldova",
    "ME": "Montenegro",
    "MF": "St Martin (French)",
    "MG": "Madagascar",
    "MH": "Marshall Islands",
    "MK": "North Macedonia",
    "ML": "Mali",
    "MM": "Myanmar (Burma)",
    "MN": "Mongolia",
    "MO": "Macau",
    "MP": "Northern Mariana Islands",
    "MQ": "Martinique",
    "MR": "Mauritania",
    "MS": "Montserrat",
    "MT": "Malta",
    "MU": "Mauritius",
    "MV": "Maldives",
    "MW": "Malawi",
    "MX": "Mexico",
    "MY": "Malaysia",
    "MZ": "Mozambique",
    "NA": "Namibia",
    "NC": "New Caledonia",
    "NE": "Niger",
    "NF": "Norfolk Island",
    "NG": "Nigeria",
    "NI": "Nicaragua",
    "NL": "Netherlands",
    "NO": "Norway",
    "NP": "Nepal",
    "NR": "Nauru",
    "NU": "Niue",
    "NZ": "New Zealand",
    "OM": "Oman",
    "PA": "Panama",
    "PE": "Peru",
    "PF": "French Polynesia",
    "PG": "Papua New Guinea",
    "PH": "Philippines",
    "PK": "Pakistan",
    "PL": "Poland",
    "PM": "St Pierre & Miquelon",
    "PN": "Pitcairn",
    "PR": "Puerto Rico",
    "PS": "Palestine",
    "PT": "Portugal",
    "PW": "Palau",
    "PY": "Paraguay",
    "QA": "Qatar",
    "RE": "Réunion",
    "RO": "Romania",
    "RS": "Serbia",
    "RU": "Russia",
    "RW": "Rwanda",
    "SA": "Saudi Arabia",
    "SB": "Solomon Islands",
    "SC": "Seychelles",
    "SD": "Sudan",
    "SE": "Sweden",
    "SG": "Singapore",
    "SH": "St Helena",
    "SI": "Slovenia",
    "SJ": "Svalbard & Jan Mayen",
    "SK": "Slovakia",
    "SL": "Sierra Leone",
    "SM": "San Marino",
    "SN": "Senegal",
    "SO": "Somalia",
    "SR": "Suriname",
    "SS": "South Sudan",
    "ST": "Sao Tome & Principe",
    "SV": "El Salvador",
    "SX": "St Maarten (Dutch)",
    "SY": "Syria",
    "SZ": "Eswatini (Swaziland)",
    "TC": "Turks & Caicos Is",
    "TD": "Chad",
    "TF": "French S. Terr.",
    "TG": "Togo",
    "TH": "Thailand",
    "TJ": "Tajikistan",
    "TK": "Tokelau",
    "TL": "East Timor",
    "TM": "Turkmenistan",
    "TN": "Tunisia",
    "TO": "Tonga",
    "TR": "Turkey",
    "TT": "Trinidad & Tobago",
    "TV": "Tuvalu",
    "TW": "Taiwan",
    "TZ": "Tanzania",
    "UA": "Ukraine",
    "UG": "Uganda",
    "UM": "US minor outlying islands",
    "US": "United States",
    "UY": "Uruguay",
    "UZ": "Uzbekistan",
    "VA": "Vatican City",
    "VC": "St Vincent",
    "VE": "Venezuela",
    "VG": "Virgin Islands (UK)",
    "VI": "Virgin Islands (US)",
    "VN": "Vietnam",
    "VU": "Vanuatu",
    "WF": "Wallis & Futuna",
    "WS": "Samoa (western)",
    "YE": "Yemen",
    "YT": "Mayotte",
    "ZA": "South Africa",
    "ZM": "Zambia",
    "ZW": "Zimbabwe",
}

# What pycountry's names, official names, common names and translations miss: codes in use that
# are not ISO, short and former names, and the parts of a country people name instead of it.
# Compared in the same normalized form as every other spelling (see _spelling_key).
COUNTRY_ALIASES: dict[str, str] = {
    "UK": "GB",
    "EL": "GR",  # the EU's code for Greece
    "Great Britain": "GB",
    "Britain": "GB",
    "England": "GB",
    "Scotland": "GB",
    "Wales": "GB",
    "Northern Ireland": "GB",
    "Holland": "NL",
    "Russia": "RU",
    "Ivory Coast": "CI",
    "Macedonia": "MK",
    "Swaziland": "SZ",
    "Burma": "MM",
    "Vatican": "VA",
    "Holy See": "VA",
    "Cape Verde": "CV",
    "East Timor": "TL",
    "Republic of Ireland": "IE",
    "Slovak Republic": "SK",
    "Kyrgyz Republic": "KG",
    "DR Congo": "CD",
    "DRC": "CD",
    "Democratic Republic of the Congo": "CD",
    "Congo-Kinshasa": "CD",
    "Congo-Brazzaville": "CG",
    "Republic of the Congo": "CG",
    "UAE": "AE",
    "Emirates": "AE",
    "Hong Kong SAR": "HK",
    "Macau SAR": "MO",
    "Bosnia": "BA",
    "Trinidad": "TT",
    "Brunei": "BN",
    "Micronesia": "FM",
    "Palestine": "PS",
    "Turkey": "TR",
}

# pycountry's translations of the country names searched too ("Deutschland", "Suisse", "España"):
# the languages of the markets the agencies sell in. A translated spelling that two countries share
# is left out (the value is then flagged, not guessed).
COUNTRY_NAME_LANGUAGES = (
    "de", "fr", "es", "it", "nl", "pt", "pt_BR", "pl", "sv", "da", "nb_NO", "fi", "cs", "sk", "hu",
    "ro", "el", "tr", "ru", "uk", "hr", "sl", "et", "lv", "lt", "bg", "ca",
)  # fmt: skip

_LEADING_THE = re.compile(r"^the\s+|,\s*the$")
_NOT_A_LETTER_OR_DIGIT = re.compile(r"[\W_]+")


def _spelling_key(text: str) -> str:
    """The form spellings are compared in: accents, case, punctuation and spaces dropped, a leading
    "the" too ("The Netherlands", "U.S.A.", "Côte d'Ivoire" → "netherlands", "usa", "cotedivoire")."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold().strip()
    text = _LEADING_THE.sub("", text.replace("&", " and "))
    return _NOT_A_LETTER_OR_DIGIT.sub("", text)


def _name_variants(name: str) -> list[str]:
    """ "Korea, Republic of" is also written "Republic of Korea"."""
    head, comma, tail = name.partition(", ")
    return [name, f"{tail} {head}"] if comma else [name]


@functools.cache
def _country_index() -> tuple[dict[str, str], dict[str, str]]:
    """(codes, names): spelling key → alpha-2 code, for the countries in COUNTRY_NAMES.

    Codes: alpha-2, alpha-3 and the aliases of at most three letters ("UK", "UAE"), matched only
    for ASCII text, so "ß" (case-folded "ss") is not South Sudan. Names: built once from pycountry,
    English names (name, official and common names, "X, Republic of" turned around) first, then
    translations where no English spelling has the key, then COUNTRY_ALIASES, which win. pycountry's
    own ``search_fuzzy`` is not used: it maps cities and regions to countries ("Paris" → FR),
    answers KP for "Republic of Korea" and is too slow per unknown value for a file of a million
    rows (docs/PERFORMANCE.md).
    """
    english: dict[str, set[str]] = {}
    translated: dict[str, set[str]] = {}
    countries = [c for c in pycountry.countries if c.alpha_2 in COUNTRY_NAMES]
    for country in countries:
        names = [getattr(country, a, None) for a in ("name", "official_name", "common_name")]
        names.append(COUNTRY_NAMES[country.alpha_2])
        for name in filter(None, names):
            for variant in _name_variants(name):
                english.setdefault(_spelling_key(variant), set()).add(country.alpha_2)
    for language in COUNTRY_NAME_LANGUAGES:
        try:
            catalogue = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        except OSError:
            continue  # a pycountry release without this language
        for country in countries:
            for name in filter(None, (getattr(country, a, None) for a in ("name", "common_name"))):
                for variant in _name_variants(catalogue.gettext(name)):
                    translated.setdefault(_spelling_key(variant), set()).add(country.alpha_2)
    names: dict[str, str] = {}
    for key, found in (*translated.items(), *english.items()):  # English last: it wins
        if len(found) == 1 and len(key) > 3:
            names[key] = next(iter(found))
    codes = {_spelling_key(c.alpha_3): c.alpha_2 for c in countries}
    codes.update({_spelling_key(code): code for code in COUNTRY_NAMES})
    for alias, code in COUNTRY_ALIASES.items():
        key = _spelling_key(alias)
        (codes if len(key) <= 3 else names)[key] = code
    return codes, names


def normalize_country_code(raw: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country as people write it, or None when it is not one we
    know; empty → ``""``. ``de``, `` DE ``, ``DEU``, ``Germany``, ``Deutschland`` → ``DE``;
    ``UK``, ``England``, ``Great Britain`` → ``GB``; ``U.S.``, ``USA``, ``United States`` → ``US``.
    """
    text = (raw or "").strip()
    if not text:
        return ""
    ascii_text = text.isascii()
    if ascii_text and (code := text.upper()) in COUNTRY_NAMES:
        return code  # already a code: the common case, without building the key
    codes, names = _country_index()
    key = _spelling_key(text)
    return names.get(key) or (codes.get(key) if ascii_text else None)


def country_spellings_ascii_upper() -> dict[str, str]:
    """Upper-cased ASCII spellings → code, each exactly what normalize_country_code answers for it
    (in any letter case): the PostgreSQL file path decides these rows in SQL with ``upper()``."""
    spellings = set(COUNTRY_NAMES) | set(COUNTRY_ALIASES) | set(COUNTRY_NAMES.values())
    for country in pycountry.countries:
        for attribute in ("alpha_3", "name", "official_name", "common_name"):
            if value := getattr(country, attribute, None):
                spellings.update(_name_variants(value))
    table: dict[str, str] = {}
    for spelling in spellings:
        upper = spelling.upper()
        if upper.isascii() and upper == upper.strip() and (code := normalize_country_code(upper)):
            table[upper] = code
    return table


# Regions a campaign's lead policy can name; consent rules attach to regions, not single countries.
# EU: the 27 member states. EEA adds Iceland, Liechtenstein and Norway. UK: the United Kingdom plus
# the Crown dependencies, whose data-protection laws mirror the UK GDPR.
EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)
REGION_COUNTRIES: dict[str, frozenset[str]] = {
    "EU": EU_COUNTRIES,
    "EEA": EU_COUNTRIES | {"IS", "LI", "NO"},
    "UK": frozenset({"GB", "GG", "JE", "IM"}),
    "CH": frozenset({"CH"}),
    "CA": frozenset({"CA"}),
    "BR": frozenset({"BR"}),
    "US": frozenset({"US"}),
}


def countries_in_regions(regions: list[str] | tuple[str, ...]) -> frozenset[str]:
    found: set[str] = set()
    for region in regions:
        key = str(region).strip().upper()
        if key in REGION_COUNTRIES:
            found |= REGION_COUNTRIES[key]
        elif key in COUNTRY_NAMES:
            found.add(key)  # a single country may be named as its own region
    return frozenset(found)
