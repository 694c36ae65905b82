"""Template filters of the newsletter's e-mails."""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_LINK = re.compile(r"(https?://[^\s<>\"]+)")


@register.filter
def linked_paragraphs(text: str) -> SafeString:
    """Plain text as HTML paragraphs, its (already tracked) links made clickable.

    Everything is escaped first: the text is staff-written, but nothing in it
    may become markup of its own.
    """
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        escaped = escape(block)
        # The text is escaped already, so the link is too: insert it as it is.
        linked = _LINK.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', escaped)
        paragraphs.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    return mark_safe("\n".join(paragraphs))  # noqa: S308 - built from escaped text above
