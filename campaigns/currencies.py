"""Currency codes: ISO 4217, from pycountry's copy of the standard (kept up to date upstream).

The one check every path uses: the Campaign model field validator (admin forms and the services'
``full_clean``), the campaign API serializer, and the strategy brief.
"""

from __future__ import annotations

from typing import Any

import pycountry
from django.core.exceptions import ValidationError

# ISO 4217 also lists codes that are not money a campaign can spend: precious metals, bond-market
# units, IMF / development-bank units of account, the testing code and "no currency" (XXX).
NOT_SPENDABLE = frozenset(
    {"XAG", "XAU", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA", "XAD", "XTS", "XXX"}
)


def normalize_currency_code(value: Any) -> str:
    return str(value or "").strip().upper()


def is_currency_code(value: Any) -> bool:
    code = normalize_currency_code(value)
    return len(code) == 3 and code not in NOT_SPENDABLE and pycountry.currencies.get(alpha_3=code) is not None


def validate_currency_code(value: Any) -> None:
    """Django validator: refuse anything but an ISO 4217 currency (services store it upper-case)."""
    if not is_currency_code(value):
        raise ValidationError(
            f"{value!r} is not an ISO 4217 currency code; use one such as USD, EUR or GBP.",
            code="invalid_currency",
        )
