"""Canned replies' variables: which exist, how a body is checked when saved and filled for a thread.

`{{contact.name}}` and the others are filled when the agent inserts the reply (the composer receives
the bodies already filled for its thread and its agent); an unknown or unclosed variable is refused
when the reply is saved, so no literal `{{…}}` can reach a customer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from channels_app.access import AuthUser, person_name
from conversations.models import Conversation

VARIABLES = ("contact.name", "contact.id", "agent.name", "agent.first_name", "application.name")
_VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def unknown_variables(body: str) -> list[str]:
    """The problems of `body`'s variables, as written: unknown names, and "{{"/"}}" left unpaired."""
    problems = [f"{{{{{name}}}}}" for name in _VARIABLE.findall(body) if name not in VARIABLES]
    rest = _VARIABLE.sub("", body)
    if "{{" in rest or "}}" in rest:
        problems.append("{{…}}")
    return list(dict.fromkeys(problems))


def variable_values(*, conversation: Conversation, agent: AuthUser) -> dict[str, str]:
    return {
        "contact.name": conversation.contact.label,
        "contact.id": conversation.contact.external_id,
        "agent.name": person_name(agent),
        "agent.first_name": agent.first_name or person_name(agent),
        "application.name": conversation.application.name,
    }


def fill(body: str, values: Mapping[str, str]) -> str:
    """`body` with each known variable replaced by its value (plain text: the composer shows it as is)."""
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), body)
