"""HTML mail to plain text with the standard library, dropping what the writer did not write.

Mail clients mark quoted history in HTML: Gmail's ``<div class="gmail_quote">``, Apple Mail's and
Thunderbird's ``<blockquote type="cite">``, Outlook's ``<div id="divRplyFwdMsg">`` / ``appendonsend``
marker (after which the quoted message follows), Yahoo's ``yahoo_quoted``. Their content is dropped
so the classifier reads only the new text; the plain-text rules in ``quoted.py`` catch the rest."""

from __future__ import annotations

import re
from html.parser import HTMLParser

BLOCK_TAGS = frozenset(
    {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "hr", "pre"}
)
SKIP_TAGS = frozenset({"style", "script", "head", "title"})
VOID_TAGS = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base"})
QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote")
# Outlook puts this empty marker before the quoted message: everything after it is history.
OUTLOOK_CUT_IDS = (
    "divrplyfwdmsg",
    "appendonsend",
    "x_divrplyfwdmsg",
    "mail-editor-reference-message-container",
)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, starts a dropped region)
        self.dropped_depth = 0
        self.cut = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.cut:
            return
        values = {k: (v or "") for k, v in attrs}
        css = values.get("class", "").lower()
        element_id = values.get("id", "").lower()
        if element_id in OUTLOOK_CUT_IDS:
            self.cut = True
            return
        if tag in BLOCK_TAGS:
            self.parts.append("\n")
        if tag in VOID_TAGS:
            return
        drops = tag in SKIP_TAGS or tag == "blockquote" or any(name in css for name in QUOTE_CLASSES)
        self.stack.append((tag, drops))
        if drops:
            self.dropped_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self.cut or tag in VOID_TAGS:
            return
        # Close up to the matching open tag: real-world mail HTML is often not well nested.
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                for _, drops in self.stack[index:]:
                    self.dropped_depth -= drops
                del self.stack[index:]
                break
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.cut and not self.dropped_depth:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
