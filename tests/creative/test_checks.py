from __future__ import annotations

import pytest

from creative.checks import CheckSettings, CreativeContent, blocking, run_checks, x_length


def codes(content, **settings):
    return {f.code for f in run_checks(content, CheckSettings(**settings))}


def test_x_post_of_300_characters_fails_length():
    findings = run_checks(CreativeContent(platform="x", body="a" * 300))
    assert [f.code for f in blocking(findings)] == ["length"]
    assert "300 characters" in findings[0].message and "allows 280" in findings[0].message


def test_x_counts_urls_as_23():
    url = "https://example.com/" + "a" * 100
    assert x_length(f"see {url}") == 4 + 23
    assert "length" not in codes(CreativeContent(platform="x", body="b" * 250 + " " + url))


@pytest.mark.parametrize(("platform", "limit"), [("x", 280), ("linkedin", 3000), ("instagram", 2200)])
def test_limits_per_platform(platform, limit):
    assert "length" not in codes(CreativeContent(platform=platform, body="a" * limit))
    assert "length" in codes(CreativeContent(platform=platform, body="a" * (limit + 1)))


def test_instagram_hashtag_limit_is_configurable():
    content = CreativeContent(platform="instagram", body="hi", hashtags=tuple(f"t{i}" for i in range(31)))
    assert "hashtags" in codes(content)
    assert "hashtags" not in codes(content, hashtag_limit_instagram=40)


def test_unknown_and_unresolved_merge_fields():
    content = CreativeContent(platform="linkedin", body="Hi {{ nickname }} {% if vip %}VIP{% endif %}")
    found = codes(content)
    assert {"merge_field_unknown", "merge_field_unresolved"} <= found


def test_email_needs_unsubscribe_and_postal_address():
    bare = CreativeContent(platform="email", subject="Hello", body="Hi {{ first_name }}")
    assert {"unsubscribe_missing", "postal_address_missing"} <= codes(bare)
    good = CreativeContent(
        platform="email",
        subject="Hello",
        body="Hi\n\n{{ sender_address }}\nUnsubscribe: {{ unsubscribe_url }}",
    )
    assert not blocking(run_checks(good))
    literal = CreativeContent(platform="email", subject="Hi", body="1 Main St\n{{ unsubscribe_url }}")
    assert "postal_address_missing" not in codes(literal, sender_postal_address="1 Main St")


def test_spam_phrases_warn_and_claims_block():
    content = CreativeContent(platform="linkedin", body="Act now: guaranteed results, 100% risk-free!")
    findings = run_checks(content)
    by_code = {f.code: f for f in findings}
    assert by_code["spam_phrases"].severity == "warning"
    assert by_code["risky_claim"].severity == "error"
    assert "guaranteed" in " ".join(f.message for f in findings)
