"""Layout as a reader sees it, on a wide screen and on a phone: a settings checkbox sits on its own row
with its label (the form's button after it), a label's edit row keeps its fields on one line, a long
label chip in an inbox row gives way instead of squeezing the assignee, and the page header fits its
Portuguese words."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from channels_app.actions.preferences import do_update_preferences
from conversations.models import Label
from tests.browser.browser_support import open_inbox, row_for
from tests.inbox.inbox_support import make_conversation

pytestmark = pytest.mark.browser

WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["wide", "phone"])
LONG_LABEL = "Reembolso aguardando aprovação do banco"

# An element's text is cut when its content is wider than its box (an ellipsis, or clipped).
CLIPPED = "el => el.scrollWidth > el.clientWidth"


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


@pytest.mark.parametrize(("language", "unassigned"), [("en", "Unassigned"), ("pt-br", "Sem responsável")])
@VIEWPORTS
def test_a_long_label_chip_never_squeezes_the_assignee(
    open_browser, app_a, agent_a, language, unassigned, viewport
) -> None:
    do_update_preferences(actor=agent_a, language=language, time_zone="America/Sao_Paulo")
    conversation = make_conversation(app_a, name="Renata Figueiredo", unread=3)
    conversation.labels.add(
        Label.objects.create(application=app_a, name=LONG_LABEL, colour=Label.COLOURS[4][0]),
        Label.objects.create(application=app_a, name="VIP", colour=Label.COLOURS[0][0]),
    )
    desk = open_browser(agent_a, viewport=viewport)
    page = desk.page
    open_inbox(page)
    row = row_for(page, "Renata Figueiredo")
    assignee = row.locator(".conv-assignee")
    expect(assignee).to_have_text(unassigned)
    chip = row.locator(".label-chip", has_text="Reembolso")
    meta = _box(row.locator(".conv-meta"))

    # The assignee reads whole, inside its row, with no chip over it; so do the time and the unread count.
    for whole in (
        assignee,
        row.locator(".conv-time"),
        row.locator(".unread-badge"),
        row.locator(".status-pill"),
    ):
        assert not whole.evaluate(CLIPPED), whole
    assignee_box = _box(assignee)
    assert _inside(assignee_box, meta)
    for other in row.locator(".label-chip").all():
        assert not _overlap(_box(other), assignee_box)
    assert _inside(_box(row.locator(".unread-badge")), meta)
    # The long label gives way: cut with an ellipsis, its whole name in its title.
    assert chip.evaluate(CLIPPED)
    assert chip.evaluate("el => getComputedStyle(el).textOverflow") == "ellipsis"
    expect(chip).to_have_attribute("title", LONG_LABEL)
    assert _right(_box(chip)) <= _right(meta) + 0.5


# Text wider than its box: cut, or spilling out of it.
CUT_TEXTS = """root => Array.from(root.querySelectorAll(SELECTORS))
    .filter(el => el.getClientRects().length && el.scrollWidth > el.clientWidth + 1)
    .map(el => el.textContent.trim())"""

# How wide an input's placeholder is drawn in the input's own font, against the room its box gives it.
PLACEHOLDER_FITS = """el => {
    const style = getComputedStyle(el);
    const context = document.createElement("canvas").getContext("2d");
    context.font = style.font;
    const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return context.measureText(el.placeholder).width <= room;
}"""


def _cut(page: Any, root: str, selectors: str) -> list[str]:
    return page.locator(root).evaluate(CUT_TEXTS.replace("SELECTORS", repr(selectors)))


@VIEWPORTS
def test_the_header_and_the_list_head_fit_their_portuguese_words(
    open_browser, app_a, admin, viewport
) -> None:
    do_update_preferences(actor=admin, language="pt-br", time_zone="America/Sao_Paulo")
    make_conversation(app_a, name="Renata")
    desk = open_browser(admin, viewport=viewport)
    page = desk.page
    open_inbox(page)
    expect(page.locator("#inbox-heading")).to_contain_text("Caixa de entrada")

    # The list's head: its title and the Application's name read whole; so do the view tabs and the
    # search field's hint.
    assert _cut(page, ".list-pane", ".list-head h1, .list-head h1 *, .view-tab, .view-tab *") == []
    application = _box(page.locator("#inbox-heading .list-app"))
    assert not _overlap(application, _box(page.locator("#connection-state")))
    assert _right(application) <= _right(_box(page.locator(".list-head")))
    assert page.locator("#inbox-search").evaluate(PLACEHOLDER_FITS)

    # The top bar: every word whole and on the screen; on a phone the links are behind the menu.
    if viewport == PHONE:
        page.get_by_role("button", name="Menu").click()
    links = page.locator(".topbar a:visible, .topbar button:visible")
    expect(page.locator(".topnav").get_by_role("link", name="Configurações")).to_be_visible()
    assert _cut(page, ".topbar", "a, button") == []
    for link in links.all():
        box = _box(link)
        assert box["x"] >= 0 and _right(box) <= viewport["width"], (link.inner_text(), box)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
