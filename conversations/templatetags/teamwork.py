"""Template tags of the team features: the nav's mentions link, a note's text with its mentions."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from channels_app.access import person_name
from conversations.actions.notes import MENTION
from conversations.canned import fill, variable_values
from conversations.selectors.inbox import labels_of_row
from conversations.selectors.mentions import unread_mentions
from conversations.selectors.teamwork import page_canned_replies
from conversations.templatetags.inbox import linkify

register = template.Library()


@register.simple_tag(takes_context=True)
def mentions_link(context: template.Context) -> SafeString:
    """The nav's "Mentions" link with the signed-in user's unread count (one indexed count, unless the
    view counted them already: `unread_mentions` in the context)."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return mark_safe("")
    count = context.get("unread_mentions")
    if count is None:
        count = unread_mentions(user=user)
    html = render_to_string("conversations/partials/mentions_link.html", {"count": count})
    return mark_safe(html)  # rendered by the template engine, escaped there


@register.filter
def note_html(content: Any) -> SafeString:
    """A note's text, escaped, links and line breaks as in a message, its mentions of members marked.
    Only the names stored as mentioned (members when it was written) are marked; any other `@name`
    stays plain text."""
    text = str(content.get("text", "")) if isinstance(content, dict) else ""
    names = {str(n).lower() for n in content.get("mentions", [])} if isinstance(content, dict) else set()
    # The text between the marked mentions goes through linkify (which escapes it); the mentions are
    # our own spans with the name escaped: nothing of the note reaches the page unescaped.
    parts: list[str] = []
    start = 0
    for match in MENTION.finditer(text) if names else ():
        name = match.group(1).rstrip(".-+")
        if name.lower() not in names:
            continue
        parts.append(str(linkify(text[start : match.start()])))
        parts.append(str(format_html('<span class="mention">@{}</span>', name)))
        start = match.start() + 1 + len(name)
    parts.append(str(linkify(text[start:])))
    return mark_safe("".join(parts))  # each part escaped above


@register.filter
def mention_members(agents: Any) -> str:
    """The Application's members as the @mention picker lists them: JSON for a data attribute (the
    template escapes it; the page allows no inline script, not even a JSON one)."""
    return json.dumps([{"username": a.get_username(), "name": person_name(a)} for a in agents or ()])


@register.filter
def labels_on(conversation: Any) -> list[Any]:
    """The conversation's labels, read once per header (from the prefetch when the row query made one)."""
    return labels_of_row(conversation)


@register.filter
def in_labels(label: Any, labels: list[Any]) -> bool:
    return any(other.pk == label.pk for other in labels)


@register.simple_tag(takes_context=True)
def canned_items(context: template.Context, conversation: Any) -> str:
    """The canned replies the composer's `/` picker offers, their variables filled for this thread and
    the signed-in agent: JSON for a data attribute (the template escapes it)."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return "[]"
    values = variable_values(conversation=conversation, agent=user)
    replies = page_canned_replies(user=user, conversation=conversation)
    return json.dumps([{"code": r.code, "title": r.title, "body": fill(r.body, values)} for r in replies])
