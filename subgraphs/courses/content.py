"""Rich text: Markdown or HTML in, sanitised HTML out. Nothing unsafe is ever stored.

The source is kept as written (for editing); the HTML clients render is produced here, once,
when the text is saved: Markdown is rendered with raw HTML disabled, and every HTML passes
through an allow-list sanitiser (no scripts, event handlers, javascript: URLs or styles).
"""

from __future__ import annotations

import html
import re
from enum import StrEnum
from typing import Final

import nh3
from markdown_it import MarkdownIt

from common.errors import BadUserInput

MAX_TEXT_CHARS: Final = 200_000
TAGS: Final = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "dl", "dt", "em",
        "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
        "kbd", "li", "mark", "ol", "p", "pre", "s", "small", "span", "strong", "sub",
        "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
ATTRIBUTES: Final = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
}
URL_SCHEMES: Final = frozenset({"http", "https", "mailto"})

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_TAGS = re.compile(r"<[^>]*>")


class TextFormat(StrEnum):
    MARKDOWN = "MARKDOWN"
    HTML = "HTML"


def sanitise(markup: str) -> str:
    return nh3.clean(
        markup,
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    )


def render(source: str, text_format: TextFormat, *, field: str) -> str:
    """Safe HTML for a text, or BAD_USER_INPUT when it is too long."""
    if len(source) > MAX_TEXT_CHARS:
        raise BadUserInput(f"{field} is longer than {MAX_TEXT_CHARS} characters.", field=field)
    if text_format is TextFormat.MARKDOWN:
        return sanitise(_markdown.render(source))
    return sanitise(source)


def plain_text(safe_html: str) -> str:
    """Words of sanitised HTML, for the search index."""
    return html.unescape(_TAGS.sub(" ", safe_html))
