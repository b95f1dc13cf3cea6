"""Layout as a reader sees it, on a wide screen and on a phone: a settings checkbox sits on its own row
with its label (the form's button after it), and a label's edit row keeps its fields on one line."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from conversations.models import Label

pytestmark = pytest.mark.browser

WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["wide", "phone"])
LONG_LABEL = "Reembolso aguardando aprovação do banco"


def _box(locator: Any) -> dict[str, float]:
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box is not None
    return box


def _right(box: dict[str, float]) -> float:
    return box["x"] + box["width"]


def _bottom(box: dict[str, float]) -> float:
    return box["y"] + box["height"]


def _inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return inner["x"] >= outer["x"] - 0.5 and _right(inner) <= _right(outer) + 0.5


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < _right(b) - 0.5
        and b["x"] < _right(a) - 0.5
        and a["y"] < _bottom(b) - 0.5
        and b["y"] < _bottom(a) - 0.5
    )


def _assert_checkbox_row(page: Any, label_text: str, field_before: Any = None) -> None:
    """The box and its label on one row (box first), inside their card, the form's button under them."""
    checkbox = page.get_by_label(label_text, exact=True)
    label = page.locator("label", has_text=label_text)
    form = page.locator("form").filter(has=checkbox)
    card = page.locator(".card").filter(has=form)
    button = form.locator("button[type=submit]").last
    box, words, button_box, card_box = _box(checkbox), _box(label), _box(button), _box(card)

    assert _right(box) <= words["x"], (label_text, box, words)  # the box before its words
    middle = box["y"] + box["height"] / 2
    assert words["y"] <= middle <= _bottom(words), (label_text, box, words)  # on the same row
    # The button comes after the field, on a line of its own: below the box, its words and any help.
    below = max(_bottom(box), _bottom(words))
    help_text = form.locator(".check-field", has=checkbox).locator(".helptext")
    if help_text.count():
        below = max(below, _bottom(_box(help_text)))
    assert button_box["y"] >= below, (label_text, button_box, below)
    for part in (box, words, button_box):
        assert _inside(part, card_box), (label_text, part, card_box)
    if field_before is not None:
        assert _bottom(_box(field_before)) <= box["y"], label_text  # the fields in their order


@VIEWPORTS
def test_settings_checkboxes_sit_on_their_own_row_with_their_label(
    open_browser, app_a, admin, viewport
) -> None:
    desk = open_browser(admin, viewport=viewport)
    page = desk.page

    page.goto(f"/settings/applications/{app_a.pk}/")
    name = page.get_by_label("Name", exact=True)
    _assert_checkbox_row(page, "Assign on first reply", field_before=name)
    _assert_checkbox_row(
        page,
        "The clock always runs (no business hours)",
        field_before=page.get_by_label("First response within (minutes)"),
    )
    # The weekdays read as a row of choices, each box before its day, one day clear of the next.
    monday = page.get_by_label("Monday", exact=True)
    tuesday = page.get_by_label("Tuesday", exact=True)
    monday_words = _box(page.locator("label", has=monday))
    assert _right(_box(monday)) <= monday_words["x"] + monday_words["width"] / 2
    assert not _overlap(_box(page.locator("label", has=monday)), _box(page.locator("label", has=tuesday)))

    page.goto(f"/settings/applications/{app_a.pk}/canned-replies/")
    _assert_checkbox_row(
        page, "Shared with the whole team (admins)", field_before=page.locator("textarea[name=body]")
    )

    page.goto("/profile/")
    for label_text in ("A new conversation", "A colleague's note that mentions me"):
        # Each notification twice: under "Desktop notification" and under "Sound".
        for section in page.locator("#notifications fieldset").all():
            checkbox = section.get_by_label(label_text, exact=True)
            words = _box(section.locator("label", has_text=label_text))
            box = _box(checkbox)
            assert _right(box) <= words["x"] and words["y"] <= box["y"] + box["height"] / 2 <= _bottom(words)
    save = _box(page.get_by_role("button", name="Save notification settings"))
    last = page.locator("#notifications fieldset").last.locator(".check-field").last
    assert save["y"] >= _bottom(_box(last))


@VIEWPORTS
def test_a_labels_edit_row_keeps_its_fields_in_line_and_on_the_page(
    open_browser, app_a, admin, viewport
) -> None:
    label = Label.objects.create(application=app_a, name=LONG_LABEL, colour=Label.COLOURS[4][0])
    desk = open_browser(admin, viewport=viewport)
    page = desk.page
    page.goto(f"/settings/applications/{app_a.pk}/labels/")
    row = page.locator(f"tr[data-label-row='{label.pk}']")
    name, colour = row.get_by_label("Name"), row.get_by_label("Colour")
    save, delete = row.get_by_role("button", name="Save"), row.get_by_role("button", name="Delete")
    expect(name).to_have_value(LONG_LABEL)
    boxes = {"name": _box(name), "colour": _box(colour), "save": _box(save), "delete": _box(delete)}
    table = _box(page.locator(".table-wrap").filter(has=row))

    names = list(boxes)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            assert not _overlap(boxes[first], boxes[second]), (first, second, boxes)
    for key, box in boxes.items():
        assert _inside(box, table), (key, box, table)  # nothing hangs out of the table (or the page)
    # The name field is a field, wide enough to read a name, styled as the page's other fields.
    assert boxes["name"]["width"] >= 150
    assert name.evaluate("el => getComputedStyle(el).borderRadius") == "8px"
    if viewport == WIDE:
        # One line: name, colour, Save, then Delete, their middles level.
        middles = [box["y"] + box["height"] / 2 for box in boxes.values()]
        assert max(middles) - min(middles) <= 2, boxes
        xs = [box["x"] for box in boxes.values()]
        assert xs == sorted(xs), boxes
