"""WhatsApp templates as Hubdash keeps them: their text, its `{{n}}` placeholders, and the rendered text.

The Hub has no template-listing API (docs/hub.md §3.5 [GAP]): admins register each approved template in
Hubdash (channels_app.models.WhatsAppTemplate). [GAP] (README, Hub assumptions): we send a template's
variables as body parameters only (`components: [{type: body, parameters}]`, as `content.py` always
did), so only the body may hold placeholders; a header or footer with `{{n}}` is refused on save.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from django.utils.translation import gettext as _

from channels_app.hub.message_content.values import ContentError

PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
MAX_VARIABLES = 20


def placeholders(text: str) -> list[int]:
    """The numbers of the `{{n}}` in `text`, in order of appearance (repeats kept)."""
    return [int(n) for n in PLACEHOLDER.findall(text or "")]


def check_template_id(value: str) -> str:
    """The Hub's template id, a UUID (§3.5); ContentError otherwise."""
    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        raise ContentError(_("A template id is a UUID, e.g. 9b1e4c2a-55f0-4e3b-8d7a-2c6f1e0a9d34.")) from None


def variable_count(body: str) -> int:
    """How many variables the body takes: its placeholders must be {{1}}…{{n}} without gaps."""
    numbers = sorted(set(placeholders(body)))
    if numbers != list(range(1, len(numbers) + 1)):
        missing = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
        raise ContentError(
            _("Number the variables {{1}}, {{2}}… without gaps: %(missing)s is missing.")
            % {"missing": ", ".join(f"{{{{{n}}}}}" for n in missing) or "{{1}}"}
        )
    if len(numbers) > MAX_VARIABLES:
        raise ContentError(_("A template takes at most %(n)s variables.") % {"n": MAX_VARIABLES})
    return len(numbers)


@dataclass(frozen=True)
class TemplateText:
    """A template's text, as registered: what the picker previews and the bubble shows."""

    header: str
    body: str
    footer: str = ""
    buttons: tuple[str, ...] = ()

    @property
    def variables(self) -> int:
        return variable_count(self.body)

    def check_params(self, params: list[str]) -> None:
        """ContentError unless `params` fill every variable, and no more."""
        expected = self.variables
        if len(params) != expected:
            raise ContentError(
                _("This template takes %(expected)s variables; %(given)s were given.")
                % {"expected": expected, "given": len(params)}
            )
        empty = [str(n) for n, value in enumerate(params, 1) if not value.strip()]
        if empty:
            raise ContentError(
                _("Fill in every variable of the template (empty: %(which)s).")
                % {"which": ", ".join(f"{{{{{n}}}}}" for n in empty)}
            )

    def render(self, params: list[str]) -> str:
        """Header, body and footer with the variables filled in, one block per line."""
        values = {str(n): value for n, value in enumerate(params, 1)}

        def fill(text: str) -> str:
            return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)

        parts = [fill(self.header), fill(self.body), self.footer, *(f"[{b}]" for b in self.buttons)]
        return "\n".join(part for part in parts if part)
