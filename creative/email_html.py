"""An email's HTML part and its text part, kept saying the same thing.

The text body is the source of truth: ``html_from_text`` derives the HTML part from it (escaped,
one ``<p>`` per paragraph, ``<br>`` per line, URLs and ``{{ unsubscribe_url }}`` made links, merge
fields kept verbatim so rendering fills them — and escapes their values — as in any HTML body).
When an operator writes the HTML by hand, ``html_text_differences`` compares the text a reader of
the HTML part sees with the text body, line by line, so a reviewer sees where the two differ before
approving (the review services ask for an explicit acknowledgement then).

Pure functions: no models, no settings.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from .personalization import MERGE_FIELD

# Merge fields whose value is a URL: linked like a literal URL.
URL_FIELDS = frozenset({"unsubscribe_url"})
URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
# Sentence punctuation right after a URL is the sentence's, not the URL's.
URL_TRAILING = ".,;:!?)]}'\""
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")


def _link(href: str, label: str) -> str:
    return f'<a href="{href}">{label}</a>'


def _literal_html(text: str) -> str:
    """Escape literal text, linking each http(s) URL in it."""
    out: list[str] = []
    position = 0
    for match in URL.finditer(text):
        url = match.group(0)
        stripped = url.rstrip(URL_TRAILING)
        out.append(html.escape(text[position : match.start()], quote=False))
        out.append(_link(html.escape(stripped, quote=True), html.escape(stripped, quote=False)))
        out.append(html.escape(url[len(stripped) :], quote=False))
        position = match.end()
    out.append(html.escape(text[position:], quote=False))
    return "".join(out)


def _line_html(line: str) -> str:
    """One line of text as HTML: literal parts escaped and linked; merge fields left as written
    (escaping their ``default:"…"`` would double-escape it, since rendering escapes values)."""
    out: list[str] = []
    position = 0
    for match in MERGE_FIELD.finditer(line):
        out.append(_literal_html(line[position : match.start()]))
        field = match.group(0)
        out.append(_link(field, field) if match.group("name") in URL_FIELDS else field)
        position = match.end()
    out.append(_literal_html(line[position:]))
    return "".join(out)


def html_from_text(text: str) -> str:
    """The HTML part for a text body: ``<p>`` per paragraph (blank-line separated), ``<br>`` per line."""
    normalised = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not normalised:
        return ""
    paragraphs = [p.strip("\n") for p in PARAGRAPH_BREAK.split(normalised) if p.strip()]
    return "".join(
        "<p>" + "<br>".join(_line_html(line) for line in paragraph.split("\n")) + "</p>"
        for paragraph in paragraphs
    )


class _TextOfHtml(HTMLParser):
    """What a reader of an HTML email sees as text: blocks and <br> break lines, script/style and
    the document head are not shown, entities are decoded."""

    BLOCKS = frozenset(
        {"p", "div", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
         "blockquote", "section", "article", "header", "footer", "hr", "pre"}
    )  # fmt: skip
    HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_startendtag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if not self.hidden:
            # Source line breaks inside HTML are spaces to the reader.
            self.parts.append(re.sub(r"\s+", " ", data))


def text_of_html(markup: str) -> str:
    parser = _TextOfHtml()
    parser.feed(markup or "")
    parser.close()
    return "".join(parser.parts)


def _lines(text: str) -> list[str]:
    """Non-empty lines with runs of whitespace collapsed: layout is not a difference."""
    return [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]


@dataclass(frozen=True)
class LineDifference:
    text: tuple[str, ...]  # the text body's lines here (empty: only the HTML has these)
    html: tuple[str, ...]  # what the HTML part shows here (empty: only the text has these)

    def as_dict(self) -> dict[str, list[str]]:
        return {"text": list(self.text), "html": list(self.html)}


def html_text_differences(text: str, markup: str) -> list[LineDifference]:
    """Where the HTML part says something other than the text body. No HTML part (an empty one)
    is a text-only email: nothing to differ."""
    if not (markup or "").strip():
        return []
    mine, theirs = _lines(text), _lines(text_of_html(markup))
    if mine == theirs:
        return []
    matcher = difflib.SequenceMatcher(a=mine, b=theirs, autojunk=False)
    return [
        LineDifference(tuple(mine[i1:i2]), tuple(theirs[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]
