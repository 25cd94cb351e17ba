"""The checks that catch copy a reader would take for a mistake (issue #17): each fails on the
broken text and stays quiet on the sound one."""

from __future__ import annotations

import pytest

from creative.checks import (
    CheckSettings,
    CreativeContent,
    blocking,
    doubled_punctuation,
    hashtag_problem,
    run_checks,
)

FOOTER = "\n\n--\n{{ sender_name }}\n{{ sender_address }}\nUnsubscribe: {{ unsubscribe_url }}"


def email(subject="A short subject", body="Hi there, one idea for you.", preheader="", **kw):
    return CreativeContent(platform="email", subject=subject, preheader=preheader, body=body + FOOTER, **kw)


def findings(content, code, **settings):
    return [f for f in run_checks(content, CheckSettings(**settings)) if f.code == code]


# --- ellipsis -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "12 % fewer empty…",
        "why fleet managers at carriers… choose a free audit",
        "Switzerland...",
        "Read on. . .",
        "Wait for it…",  # a deliberate one too: the reviewer overrides with a reason
    ],
)
def test_an_ellipsis_anywhere_is_a_truncation(text):
    found = findings(email(body=f"Hi, {text}"), "ellipsis")
    assert len(found) == 1 and found[0].severity == "error"
    assert "body" in found[0].message and "cut off" in found[0].message


def test_ellipsis_in_subject_preheader_and_cta_names_the_field():
    content = email(subject="How a team like yours fixed…", preheader="Last quarter a team…", cta="Book a…")
    messages = [f.message for f in findings(content, "ellipsis")]
    assert [m.split(" has")[0] for m in messages] == ["The subject", "The preheader", "The call to action"]
    assert "after “like yours fixed”" in messages[0]


def test_whole_sentences_and_links_with_dots_are_not_ellipses():
    body = "A free route audit. 12 % fewer empty kilometres in 2.5 months! See https://x.example/a...b today."
    assert findings(email(body=body), "ellipsis") == []


# --- doubled punctuation --------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Switzerland..", "Hi,, there", "Great!!", "Really?.", "Why?!", "so:;"])
def test_doubled_punctuation_fails(text):
    found = findings(email(body=f"We work in {text} Thanks."), "punctuation_doubled")
    assert len(found) == 1 and found[0].severity == "error"


@pytest.mark.parametrize(
    "text",
    [
        "Tools, e.g., spreadsheets.",
        "Teams in the U.S., the UK and Canada.",
        "Routes, vans, etc., all of it.",
        "At 10:00. Then lunch.",
        'Hi {{ first_name|default:"there" }},',
        "Wait for it...",  # three dots are an ellipsis: its own finding, not this one
    ],
)
def test_abbreviations_times_merge_fields_and_ellipses_are_not_doubled_punctuation(text):
    assert doubled_punctuation(text) == []


# --- repeated sentence ----------------------------------------------------------------------


def test_a_sentence_said_twice_fails():
    body = "We plan routes for carriers. It saves time.\n\nWe plan routes for carriers!"
    found = findings(email(body=body), "sentence_repeated")
    assert len(found) == 1 and "We plan routes for carriers" in found[0].message


def test_short_repeats_and_the_same_sentence_in_different_fields_pass():
    body = "Thank you. Have a look.\n\nThank you."
    content = email(subject="One idea for your routes", preheader="One idea for your routes", body=body)
    assert findings(content, "sentence_repeated") == []


# --- hashtags -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "why"),
    [
        ("ListBuildingAnd", "ends with “And”"),
        ("ProofOf", "ends with “Of”"),
        ("SpeedToValueThe", "ends with “The”"),
        ("FleetManagersOr", "ends with “Or”"),
        ("ClearMeasurableOutcomesForFleetManagersAtCarriers", "characters"),
        ("route-audit", "cannot"),
        ("Route…", "cut off"),
        ("2026", "only digits"),
        ("", "empty"),
        ("Audit_", "fragment"),
    ],
)
def test_broken_hashtags_fail(tag, why):
    assert why in hashtag_problem(tag)
    post = CreativeContent(platform="linkedin", body="A post.", hashtags=(tag,))
    found = findings(post, "hashtag_broken")
    assert len(found) == 1 and found[0].severity == "error"


@pytest.mark.parametrize(
    "tag", ["FleetManagers", "#RouteAudit", "B2B", "SaaS", "HowTo", "Logistics", "Andorra"]
)
def test_whole_hashtags_pass(tag):
    assert hashtag_problem(tag) is None
    assert findings(CreativeContent(platform="x", body="A post.", hashtags=(tag,)), "hashtag_broken") == []


def test_inline_hashtags_in_a_post_are_checked_and_numbers_are_not_hashtags():
    post = CreativeContent(platform="instagram", body="We are #1 for #ListBuildingAnd teams. #Logistics")
    found = findings(post, "hashtag_broken")
    assert [f.message for f in found] == [
        "Hashtag “#ListBuildingAnd” ends with “And”: a phrase cut in the middle."
    ]


def test_hashtag_length_is_a_setting():
    post = CreativeContent(platform="linkedin", body="A post.", hashtags=("RoutePlanningForCarriers",))
    assert findings(post, "hashtag_broken", hashtag_max_chars=30) == []
    assert findings(post, "hashtag_broken", hashtag_max_chars=20)


# --- template code in a subject or preheader ------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "preheader"),
    [
        ('Clear outcomes for {{ company|default:"your team" }}', ""),
        ("Hello", "For {{ first_name }}"),
        ("{% if vip %}VIP{% endif %} offer", ""),
        ("Broken {{ company", ""),
    ],
)
def test_template_code_in_a_subject_or_preheader_fails(subject, preheader):
    found = findings(email(subject=subject, preheader=preheader), "template_in_subject")
    assert len(found) == 1 and found[0].severity == "error"


def test_merge_fields_in_the_body_are_fine_and_subject_merge_fields_can_be_allowed():
    assert (
        findings(email(body='Hi {{ first_name|default:"there" }}, a question.'), "template_in_subject") == []
    )
    personal = email(subject='Quick question, {{ first_name|default:"there" }}')
    assert findings(personal, "template_in_subject", merge_fields_in_subject=True) == []
    code = email(subject="{% if vip %}VIP{% endif %}")
    assert findings(code, "template_in_subject", merge_fields_in_subject=True)


# --- subject length -------------------------------------------------------------------------


def test_an_over_long_subject_blocks_and_the_limit_is_a_setting():
    subject = "A subject line that goes on and on about routes, vans, depots and drivers until inboxes cut it"
    assert len(subject) > 78
    found = findings(email(subject=subject), "subject_long")
    assert found and blocking(found) == found
    assert str(len(subject)) in found[0].message and "78" in found[0].message
    assert findings(email(subject=subject), "subject_long", subject_max_chars=120) == []
    assert findings(email(subject="x" * 78), "subject_long") == []
