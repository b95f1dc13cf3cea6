"""One typed value for a message's content, whichever shape it came in (docs/hub.md, Content types).

The Hub writes content in two shapes: an inbound event's `{"type": "image", "image": {"url", "caption"}}`
(§4.2, and §4.4's legacy bodies once `events.py` has converted them) and the unified one we send,
`{"imageUrl": ..., "text": ...}` (§3.3–§3.6); Meta-native `attachment(s)` (§3.7) are read too.
`parse_content` reads either, once, into one of the value classes, and whatever needs to know what a
message is asks that value instead of walking the JSON again:

- `preview()`: the one line of the inbox list and notifications (`payloads.content_preview`);
- `payload()`: the Hub's `content` object that sends it (`content.build_reply_content`);
- `check(kind)`: whether a channel of that kind carries it, within its limits (`capabilities.py`);
- `option_ids` / `answered_option_id`: the buttons a prompt offers, the one an answer chose;
- the bubble is drawn from the value, one function per class (`conversations/templatetags/inbox.py`).

`parse_content` is forgiving and never raises: a customer's message is stored whole and must be shown
even when a field has the wrong JSON type (it reads as empty). A reply is read strictly instead:
`content.parse_reply` checks the shape, with a reason an agent understands, then uses the same reader,
so a well-formed reply's value gives back its payload.

Modules: `values` (the classes, and what each answers), `prompts` (interactive content: our buttons and
lists, the customer's answers), `reading` (`parse_content`), `fields` (forgiving reads of JSON fields).
"""

from channels_app.hub.message_content.fields import JSONObject
from channels_app.hub.message_content.prompts import Answer, Link, Option, Prompt, Section
from channels_app.hub.message_content.reading import parse_content
from channels_app.hub.message_content.templates import TemplateText, check_template_id, placeholders
from channels_app.hub.message_content.values import (
    PREVIEW_LENGTH,
    Attachments,
    Contact,
    Contacts,
    ContentError,
    Empty,
    Location,
    Media,
    MessageContent,
    Opaque,
    PaymentItem,
    PaymentRequest,
    Reaction,
    Template,
    Text,
    Unknown,
    Unsupported,
    check_length,
    check_supported,
    clip,
)

__all__ = [
    "PREVIEW_LENGTH",
    "Answer",
    "Attachments",
    "Contact",
    "Contacts",
    "ContentError",
    "Empty",
    "JSONObject",
    "Link",
    "Location",
    "Media",
    "MessageContent",
    "Opaque",
    "Option",
    "PaymentItem",
    "PaymentRequest",
    "Prompt",
    "Reaction",
    "Section",
    "Template",
    "TemplateText",
    "Text",
    "Unknown",
    "Unsupported",
    "check_length",
    "check_supported",
    "check_template_id",
    "clip",
    "parse_content",
    "placeholders",
]
