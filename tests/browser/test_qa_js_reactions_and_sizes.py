"""A bubble's React menu closes as the thread header's menus do (Esc with the focus back on its button, a
click outside, a choice), and an attached file's size reads in the page's language."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from channels_app.actions.preferences import do_update_preferences
from tests.browser.browser_support import open_inbox
from tests.inbox.inbox_support import add_message, make_conversation

pytestmark = pytest.mark.browser


def _closed(menu) -> None:
    expect(menu).not_to_have_attribute("open", "")
    expect(menu.locator(".react-palette")).to_be_hidden()


def test_the_react_menu_closes_on_esc_a_click_outside_and_a_choice(
    open_browser, hub_a, app_a, agent_a
) -> None:
    conversation = make_conversation(app_a, name="Renata", text="Oi")  # the window is open
    # A customer's message with the Hub id a reaction names: only those bubbles have a React menu.
    question = add_message(
        conversation, content={"type": "text", "text": "Qual o prazo?"}, hub_message_id="wamid.react-1"
    )
    desk = open_browser(agent_a)
    page = desk.page
    open_inbox(page, f"/conversations/{conversation.pk}/")
    bubble = page.locator(f"#msg-{question.pk}")
    menu = bubble.locator("details.msg-react")
    button = menu.locator("summary")
    thumbs_up = menu.get_by_role("button", name="React with 👍")

    button.click()
    expect(thumbs_up).to_be_visible()  # the control: the button opens it
    page.keyboard.press("Escape")
    _closed(menu)
    expect(button).to_be_focused()

    button.press("Enter")  # by keyboard, and Esc from one of its choices
    expect(thumbs_up).to_be_visible()
    thumbs_up.focus()
    page.keyboard.press("Escape")
    _closed(menu)
    expect(button).to_be_focused()

    button.click()
    expect(thumbs_up).to_be_visible()
    page.locator("#composer textarea[name=text]").click()
    _closed(menu)

    button.click()
    thumbs_up.click()
    expect(bubble.locator(".reaction-badge[data-who=agent]")).to_contain_text("👍")
    _closed(page.locator(f"#msg-{question.pk} details.msg-react"))  # the bubble the reaction redrew


SIZES = [
    ("one.txt", 1),
    ("note.txt", 500),
    ("almost.txt", 1023),
    ("invoice.pdf", 2560),  # 2.5 kB
    ("manual.pdf", 3 * 1024 * 1024),  # 3 MB
]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["1 byte", "500 bytes", "1,023 bytes", "2.5 kB", "3 MB"]),
        ("pt-br", ["1 byte", "500 bytes", "1.023 bytes", "2,5 kB", "3 MB"]),
    ],
)
def test_an_attached_files_size_is_worded_in_the_pages_language(
    open_browser, app_a, agent_a, language, expected
) -> None:
    do_update_preferences(actor=agent_a, language=language, time_zone="America/Sao_Paulo")
    conversation = make_conversation(app_a, name="Renata")
    desk = open_browser(agent_a)
    page = desk.page
    open_inbox(page, f"/conversations/{conversation.pk}/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    file_input = page.locator("#composer [data-role=file]")
    shown = page.locator("#composer [data-role=file-preview] [data-role=file-name]")

    for (name, size), words in zip(SIZES, expected, strict=True):
        file_input.set_input_files({"name": name, "mimeType": "application/pdf", "buffer": b"\0" * size})
        # Intl puts a no-break space before the unit: to_have_text reads it as a space, as a reader does.
        expect(shown).to_have_text(f"{name} ({words})")
