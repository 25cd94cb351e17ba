from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from creative.personalization import merge_fields_in, render_merge_fields, unrecognised_template_syntax


def test_fields_and_fallbacks():
    text = 'Hi {{ first_name|default:"there" }}, how is {{company}}? {{ title }}'
    result = render_merge_fields(text, {"first_name": "Ada", "company": "Acme"})
    assert result.text == "Hi Ada, how is Acme? "
    assert result.missing == ("title",)
    assert render_merge_fields(text, {"first_name": "  "}).text.startswith("Hi there,")


def test_template_code_in_creative_is_shown_literally():
    text = "{% for x in y %}loop{% endfor %} {{ user.password }} {{ first_name|upper }} {% load static %}"
    result = render_merge_fields(text, {"first_name": "Ada"})
    assert result.text == text
    assert set(unrecognised_template_syntax(text)) == {
        "{% for x in y %}",
        "{% endfor %}",
        "{{ user.password }}",
        "{{ first_name|upper }}",
        "{% load static %}",
    }


def test_template_code_in_lead_data_is_inserted_as_text_not_executed():
    evil = "{% debug %}{{ settings.SECRET_KEY }}"
    result = render_merge_fields(
        "Hello {{ first_name }} at {{ company }}", {"first_name": evil, "company": "X"}
    )
    assert result.text == f"Hello {evil} at X"


def test_html_values_are_escaped_for_html_bodies():
    result = render_merge_fields(
        "<p>Hi {{ first_name }}</p>", {"first_name": "<script>x</script>"}, escape_html=True
    )
    assert result.text == "<p>Hi &lt;script&gt;x&lt;/script&gt;</p>"


def test_unknown_fields_are_reported():
    uses = merge_fields_in("{{ first_name }} {{ favourite_colour }}")
    assert [(u.name, u.known) for u in uses] == [("first_name", True), ("favourite_colour", False)]


@given(st.text(), st.text())
def test_rendering_never_grows_anything_but_merge_fields(text, value):
    """Text without merge fields comes back unchanged, whatever it holds."""
    if merge_fields_in(text):
        return
    assert render_merge_fields(text, {"first_name": value}).text == text


@given(st.text(alphabet=st.sampled_from("{}%ab _|:\"'"), max_size=40))
def test_values_are_never_rescanned(value):
    result = render_merge_fields("{{ first_name }}", {"first_name": value})
    expected = value if value.strip() else ""
    assert result.text == expected
