"""Interactive content (§3.4): the prompts we send, with buttons or list rows, and the customer's answers."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from channels_app.hub.capabilities import INTERACTIVE_LABELS, Capability
from channels_app.hub.message_content.fields import JSONObject, text_of
from channels_app.hub.message_content.values import ContentError, MessageContent, check_length, clip

_PROMPT_LABELS = {
    "button": "Buttons",
    "list": "List",
    "cta_url": "Link button",
    "location_request_message": "Location request",
}


@dataclass(frozen=True, slots=True)
class Option:
    """A button or list row of a prompt, or the one a customer chose."""

    id: str
    title: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    rows: tuple[Option, ...]


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True, slots=True)
class Prompt(MessageContent):
    """An interactive message (§3.4): reply buttons, an option list, a link button or a location request."""

    interactive_type: str
    body: str
    header: JSONObject | None = None  # Meta's header object: text, or an image/video/document
    footer: str | None = None
    buttons: tuple[Option, ...] = ()
    list_button: str = ""
    sections: tuple[Section, ...] = ()
    link: Link | None = None  # cta_url only
    action_name: str = ""  # `action.name`: cta_url, send_location
    TYPE = "interactive"

    @property
    def header_text(self) -> str:
        return text_of((self.header or {}).get("text"))

    @property
    def options(self) -> tuple[Option, ...]:
        return self.buttons + tuple(row for section in self.sections for row in section.rows)

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(option.id for option in self.options if option.id)

    def preview(self) -> str:
        label = _PROMPT_LABELS.get(self.interactive_type)
        if self.body:
            return clip(f"{label or 'Interactive'}: {self.body}")
        return label or "Interactive message"

    def _payload(self) -> JSONObject:
        interactive: JSONObject = {"type": self.interactive_type, "body": {"text": self.body}}
        if self.header is not None:
            interactive["header"] = self.header
        if self.footer is not None:
            interactive["footer"] = {"text": self.footer}
        action = self._action()
        if action:
            interactive["action"] = action
        return {"interactive": interactive}

    def _action(self) -> JSONObject:
        action: JSONObject = {"name": self.action_name} if self.action_name else {}
        if self.buttons:
            action["buttons"] = [
                {"type": "reply", "reply": {"id": b.id, "title": b.title}} for b in self.buttons
            ]
        if self.list_button:
            action["button"] = self.list_button
        if self.sections:
            action["sections"] = [_section_payload(section) for section in self.sections]
        if self.link is not None:
            action["parameters"] = {"display_text": self.link.text, "url": self.link.url}
        return action

    def _check_limits(self, cap: Capability) -> None:
        if self.interactive_type not in INTERACTIVE_LABELS:
            raise ContentError(_("Unknown kind of interactive message."))
        if self.interactive_type not in cap.interactive_types:
            label = INTERACTIVE_LABELS[self.interactive_type]
            problem = _("%(kind)s can't be sent on %(channel)s.") % {"kind": label, "channel": cap.label}
            raise ContentError(f"{problem} {cap.interactive_hint}" if cap.interactive_hint else problem)
        if (self.header is not None or self.footer is not None) and not cap.headers_and_footers:
            # §3.4: elsewhere they would silently vanish.
            raise ContentError(
                _("Headers and footers only work on WhatsApp, not on %(channel)s.") % {"channel": cap.label}
            )
        check_length(cap, self.body, _("The message body"))


def _section_payload(section: Section) -> JSONObject:
    rows = []
    for row in section.rows:
        item = {"id": row.id, "title": row.title}
        if row.description:
            item["description"] = row.description
        rows.append(item)
    return {"title": section.title, "rows": rows} if section.title else {"rows": rows}


@dataclass(frozen=True, slots=True)
class Answer(MessageContent):
    """The customer's choice: one of our buttons or list rows, or a template's quick-reply button."""

    option: Option
    interactive_type: str = ""
    quick_reply: bool = False  # a template's button: it answers no prompt of ours

    def preview(self) -> str:
        return clip(self.option.title or self.option.id)

    @property
    def answered_option_id(self) -> str:
        return "" if self.quick_reply else self.option.id
