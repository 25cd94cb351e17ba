"""Normalization (the identity form of addresses) and the fast validation path vs email-validator."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given
from hypothesis import strategies as st

from leads.normalization import (
    InvalidEmailError,
    normalize_domain,
    normalize_email,
    validate_and_normalize_email,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Jane.Doe@Example.COM ", "jane.doe@example.com"),
        ("J.A.N.E+news@GMail.com", "jane@gmail.com"),
        ("jane+x+y@googlemail.com", "jane@gmail.com"),
        ("Jane.Doe+Sales@example.com", "jane.doe+sales@example.com"),  # only Gmail ignores dots/tags
        ("info@Bücher.example", "info@xn--bcher-kva.example"),
        ("a@example.com.", "a@example.com"),
    ],
)
def test_normalize_email_examples(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "no-at-sign", "@example.com", "+tag@gmail.com", "a@"])
def test_normalize_email_refuses_non_addresses(raw):
    with pytest.raises(InvalidEmailError):
        normalize_email(raw)


def test_normalize_domain_maps_googlemail_and_idna():
    assert normalize_domain("@GoogleMail.com") == "gmail.com"
    assert normalize_domain("Bücher.Example") == "xn--bcher-kva.example"


@pytest.mark.parametrize(
    "raw",
    ["not an email", "a@b", "a..b@example.com", "a@localhost", "a@example.test", "a@-x.com", "x@ab--c.com"],
)
def test_validation_rejects_with_a_reason(raw):
    with pytest.raises(InvalidEmailError) as err:
        validate_and_normalize_email(raw)
    assert str(err.value)


def test_validation_accepts_unicode_and_quoted_addresses_via_email_validator():
    assert validate_and_normalize_email("Ünïcode@bücher.example") == "ünïcode@xn--bcher-kva.example"


@given(st.text(max_size=40) | st.emails())
@example("A.B+c@GoogleMail.com")
@example(" X@Ü.de ")
def test_normalization_is_idempotent(raw):
    try:
        once = normalize_email(raw)
    except InvalidEmailError:
        return
    assert normalize_email(once) == once


_local_chars = st.sampled_from("abcxyzABC019.-_+'!#")
_label = st.text(alphabet="abcxyz019-", min_size=1, max_size=12)


@given(
    local=st.text(alphabet=_local_chars, min_size=1, max_size=20),
    labels=st.lists(_label, min_size=1, max_size=3),
    tld=st.sampled_from(["com", "de", "io", "test", "local", "x", "co", "museum"]),
)
def test_fast_path_agrees_with_email_validator(local, labels, tld):
    address = f"{local}@{'.'.join(labels)}.{tld}"
    try:
        validate_email(address, check_deliverability=False)
        library_accepts = True
    except EmailNotValidError:
        library_accepts = False
    try:
        validate_and_normalize_email(address)
        we_accept = True
    except InvalidEmailError:
        we_accept = False
    assert we_accept == library_accepts, address


@given(st.emails())
def test_validated_form_equals_normalize_email_of_the_input(address):
    try:
        validated = validate_and_normalize_email(address)
    except InvalidEmailError:
        return
    if address.isascii():
        assert validated == normalize_email(address)
