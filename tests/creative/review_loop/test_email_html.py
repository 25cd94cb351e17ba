"""The HTML part derived from the text, and the text a reader of an HTML part sees."""

from __future__ import annotations

from creative.email_html import html_from_text, html_text_differences, text_of_html
from creative.personalization import render_merge_fields


def test_paragraphs_lines_escaping_and_links():
    html = html_from_text("Hi <Dana> & co,\n\nSee https://example.com/a?b=1&c=2.\nThanks")
    assert html == (
        "<p>Hi &lt;Dana&gt; &amp; co,</p>"
        '<p>See <a href="https://example.com/a?b=1&amp;c=2">https://example.com/a?b=1&amp;c=2</a>.'
        "<br>Thanks</p>"
    )


def test_merge_fields_are_kept_and_the_unsubscribe_field_is_a_link():
    text = 'Hi {{ first_name|default:"A&B" }},\n\nUnsubscribe: {{ unsubscribe_url }}'
    html = html_from_text(text)
    # The default is not escaped here: rendering escapes whatever value it inserts.
    assert '{{ first_name|default:"A&B" }}' in html
    assert '<a href="{{ unsubscribe_url }}">{{ unsubscribe_url }}</a>' in html
    rendered = render_merge_fields(
        html, {"unsubscribe_url": 'https://x.example/u/t"><script>'}, escape_html=True
    ).text
    assert "Hi A&amp;B," in rendered
    assert '<a href="https://x.example/u/t&quot;&gt;&lt;script&gt;">' in rendered  # value stays a value


def test_derived_html_says_what_the_text_says():
    text = "Hi {{ first_name }},\n\nLine one\nLine   two with https://example.com.\n\n\nBye <3"
    assert html_text_differences(text, html_from_text(text)) == []
    assert text_of_html(html_from_text(text)).split() == text.split()


def test_differences_name_the_lines_that_differ():
    text = "Hello\n\nWe cut costs by a third.\n\nBye"
    html = "<p>Hello</p><p>We cut costs by <b>half</b>.</p><p>Bye</p><p>PS: call us</p>"
    found = [d.as_dict() for d in html_text_differences(text, html)]
    assert found == [
        {"text": ["We cut costs by a third."], "html": ["We cut costs by half."]},
        {"text": [], "html": ["PS: call us"]},
    ]


def test_formatting_alone_or_no_html_part_is_no_difference():
    text = "Hello Dana,\n\nWe cut costs."
    assert html_text_differences(text, "<p>Hello <strong>Dana</strong>,</p>\n<p>We cut\n costs.</p>") == []
    assert html_text_differences(text, "") == []  # text-only email
    hidden = "<style>p{color:red}</style><p>Hello Dana,</p><p>We cut costs.</p><script>x()</script>"
    assert html_text_differences(text, hidden) == []
