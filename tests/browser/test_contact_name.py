"""An agent names a contact from the thread header: the name replaces the channel id at once, in their
own tab and in every other open inbox, is shown as text whatever it contains, survives the header being
redrawn while it is typed, and the little form that asks for it fits on a desktop and on a phone."""

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import ROWS, bubble_with, customer_writes, open_inbox, open_thread, row_for
from tests.support import wait_for

pytestmark = pytest.mark.browser

CUSTOMER = "5521987654321"
HOSTILE = "<img src=x onerror=alert(1)>"
PHONE = {"width": 390, "height": 844}


def _mark_document(page) -> None:
    """Tag this document, so that `_same_document` can tell that nothing reloaded the page."""
    page.evaluate("window.__sameDocument = true")


def _same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


# A control's box and whether it is what the page shows at its middle, or null while it is not shown.
MEASURE = """el => {
    const r = el.getBoundingClientRect();
    if (!el.isConnected || r.width === 0 || r.height === 0) return null;
    const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    return {x: r.x, width: r.width, on_top: el === top || el.contains(top)};
}"""


def _open_rename(page):
    """Click the pencil next to the title; returns the "Contact name" field it shows."""
    header = page.locator("#thread .thread-header")
    field = header.get_by_label("Contact name")
    expect(field).to_be_hidden()
    header.get_by_label("Name this contact").click()
    expect(field).to_be_visible()
    return field


def _names_shown(page, name: str) -> None:
    """The thread title and the conversation's row show `name`; no row still shows the bare number."""
    expect(page.locator("#thread-title")).to_have_text(name)
    expect(row_for(page, name)).to_have_count(1)
    expect(row_for(page, name).locator(".conv-name")).to_have_text(name)
    expect(page.locator(f"{ROWS} .conv-name", has_text=CUSTOMER)).to_have_count(0)


def test_naming_a_contact_shows_the_name_at_once_in_every_open_inbox(
    open_browser, hub_a, app_a, agent_a, admin
):
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMER, "Oi, meu pedido ainda não chegou")
    alice = open_browser(agent_a)
    ada = open_browser(admin)
    open_inbox(ada.page)  # the list only, no thread open
    open_inbox(alice.page)
    open_thread(alice.page, CUSTOMER)
    # The Hub sends no names: until someone names the contact, it is its phone number.
    expect(alice.page.locator("#thread-title")).to_have_text(CUSTOMER)
    expect(row_for(ada.page, CUSTOMER).locator(".conv-name")).to_have_text(CUSTOMER)
    for desk in (alice, ada):
        _mark_document(desk.page)

    field = _open_rename(alice.page)
    field.click()
    field.press_sequentially("Joana Ribeiro")  # typed, as an agent would: j/k/r/e are shortcuts elsewhere
    field.press("Enter")

    _names_shown(alice.page, "Joana Ribeiro")
    # The popover closed, and the number is still there, under the name.
    expect(alice.page.locator("#thread .thread-header").get_by_label("Contact name")).to_be_hidden()
    expect(alice.page.locator("#thread .thread-sub")).to_contain_text(CUSTOMER)
    # The shortcuts typed into the field did nothing ("e" would have resolved the conversation).
    expect(alice.page.locator("#thread .thread-header")).to_have_attribute("data-status", "open")

    # The other desk's list follows over the websocket.
    expect(row_for(ada.page, "Joana Ribeiro").locator(".conv-name")).to_have_text("Joana Ribeiro")
    expect(ada.page.locator(f"{ROWS} .conv-name", has_text=CUSTOMER)).to_have_count(0)
    for desk in (alice, ada):
        assert _same_document(desk.page), "the page reloaded to show the name"

    # Saving with the button works the same, and the field offers the current name to edit.
    field = _open_rename(alice.page)
    expect(field).to_have_value("Joana Ribeiro")
    field.fill("Joana R. Ribeiro")
    alice.page.locator("#thread .thread-header").get_by_role("button", name="Save").click()
    _names_shown(alice.page, "Joana R. Ribeiro")
    expect(alice.page.locator("#thread .thread-header").get_by_label("Contact name")).to_be_hidden()
    expect(row_for(ada.page, "Joana R. Ribeiro")).to_have_count(1)

    # What the tabs show is what is stored: a fresh page says the same.
    ada.page.reload()
    expect(ada.page.locator("#connection-state")).to_have_attribute("data-state", "live")
    expect(row_for(ada.page, "Joana R. Ribeiro")).to_have_count(1)


def test_markup_in_a_contact_name_shows_as_text(open_browser, hub_a, app_a, agent_a, admin):
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMER, "Oi")
    alice = open_browser(agent_a)
    ada = open_browser(admin)
    requested: list[str] = []
    for desk in (alice, ada):
        desk.page.on("request", lambda request: requested.append(request.url))
        open_inbox(desk.page)
        open_thread(desk.page, CUSTOMER)  # this time the other desk has the thread open too

    field = _open_rename(alice.page)
    field.fill(HOSTILE)
    field.press("Enter")

    def shown_as_text(desk) -> None:
        expect(desk.page.locator("#thread-title")).to_have_text(HOSTILE)
        expect(row_for(desk.page, HOSTILE).locator(".conv-name")).to_have_text(HOSTILE)
        expect(desk.page.locator("img[src='x'], img[onerror]")).to_have_count(0)
        assert desk.watch.dialogs == [], "the name ran as a script"

    # Alice's own tab (the htmx answer), Ada's tab (the websocket frame), then both server-rendered.
    shown_as_text(alice)
    shown_as_text(ada)
    for desk in (alice, ada):
        desk.page.reload()
        expect(desk.page.locator("#connection-state")).to_have_attribute("data-state", "live")
        shown_as_text(desk)
    # The form offers it back as it was typed, not as markup.
    expect(_open_rename(ada.page)).to_have_value(HOSTILE)
    assert not [url for url in requested if url.endswith("/x")], "the injected <img> was loaded"


def test_a_message_arriving_while_naming_keeps_the_form_and_what_was_typed(
    open_browser, hub_a, app_a, agent_a
):
    """Names are learnt in the chat, so the customer often writes while the agent types one: the header
    redraw that follows must not close the form, drop the draft, or send the rest of the keystrokes to
    the page's shortcuts ("e" resolves, "j"/"k" change conversation)."""
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMER, "Oi")
    alice = open_browser(agent_a)
    open_inbox(alice.page)
    open_thread(alice.page, CUSTOMER)
    header = alice.page.locator("#thread .thread-header")
    header.evaluate("el => { el.dataset.beforeRedraw = '1'; }")

    field = _open_rename(alice.page)
    field.click()
    field.press_sequentially("Jo")
    customer_writes(hub_a, whatsapp, CUSTOMER, "Aqui é a Joana, aliás")
    expect(bubble_with(alice.page, "Aqui é a Joana")).to_have_count(1)
    # The header is redrawn with the bubble (the same frame brings both): the marked one is gone…
    expect(alice.page.locator("#thread .thread-header[data-before-redraw]")).to_have_count(0, timeout=5000)
    # …and the form is still open, with the draft, and the keyboard is still in it.
    expect(field).to_be_visible()
    expect(field).to_have_value("Jo")
    expect(field).to_be_focused()
    alice.page.keyboard.type("ana e")
    alice.page.keyboard.press("Backspace")
    alice.page.keyboard.press("Backspace")
    alice.page.keyboard.press("Enter")

    _names_shown(alice.page, "Joana")
    expect(field).to_be_hidden()
    expect(header).to_have_attribute("data-status", "open")


def test_the_draft_kept_on_redraw_is_the_name_not_the_forms_csrf_token(open_browser, hub_a, app_a, agent_a):
    """A header drawn by a page or an htmx swap (not a live frame) has the form's CSRF field ahead of the
    name field. When a live redraw replaced it while the form was open, the draft carried over was that
    hidden token, and saving named the contact with it (a CI failure). The header is put in that state
    here, as the page draws it, because on its own the race depends on timing."""
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMER, "Oi")
    alice = open_browser(agent_a)
    open_inbox(alice.page)
    open_thread(alice.page, CUSTOMER)
    field = _open_rename(alice.page)
    field.fill("Joana")
    alice.page.evaluate(
        """() => {
            const form = document.querySelector("#thread .rename-form");
            const token = document.createElement("input");
            token.type = "hidden"; token.name = "csrfmiddlewaretoken"; token.value = "the-pages-csrf-token";
            form.prepend(token);
            document.querySelector("#thread .thread-header").dataset.beforeRedraw = "1";
        }"""
    )

    customer_writes(hub_a, whatsapp, CUSTOMER, "Sou a Joana")
    # (Not wait_for_function: Playwright evaluates its string with eval, which our CSP refuses.)
    expect(alice.page.locator("#thread .thread-header[data-before-redraw]")).to_have_count(0, timeout=5000)

    expect(field).to_have_value("Joana")
    field.press("Enter")
    _names_shown(alice.page, "Joana")


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_the_name_form_fits_on_screen(open_browser, hub_a, app_a, agent_a, viewport):
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMER, "Oi")
    alice = open_browser(agent_a, viewport=viewport)
    open_inbox(alice.page)
    open_thread(alice.page, CUSTOMER)
    # Measure once opening the thread has settled: its read marker redraws the header, and a control
    # measured just before being swapped out reads as covered by its own replacement.
    expect(row_for(alice.page, CUSTOMER).locator(".badge")).to_have_count(0)

    field = _open_rename(alice.page)
    save = alice.page.locator("#thread .thread-header").get_by_role("button", name="Save")
    width = alice.page.viewport_size["width"]
    for control in (field, save):
        # Measured in one step in the page, once the control is shown: a live redraw of the header (the
        # read marker's, late on a busy machine) swaps it out and back open between separate calls.
        box = wait_for(lambda c=control: c.evaluate(MEASURE), timeout=15, what=f"{control} shown")
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{box} is cut off a {width}px screen"
        # Nothing is drawn over it: what is at its middle is the control itself.
        assert box["on_top"], f"{control} is covered by another element"
    # And it still works there.
    field.fill("Joana")
    save.click()
    expect(alice.page.locator("#thread-title")).to_have_text("Joana")
