"""The composer's error sentence says what is wrong now: it goes once the agent fixed it (shorter text,
another mode, another file), and an empty note gets one instead of nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import open_inbox
from tests.inbox.inbox_support import make_conversation
from tests.inbox.test_uploads import PDF

pytestmark = pytest.mark.browser


def _thread(open_browser, app_a, agent_a):
    conversation = make_conversation(app_a, name="Renata")
    desk = open_browser(agent_a)
    open_inbox(desk.page, f"/conversations/{conversation.pk}/")
    return desk, desk.page.locator(f"#composer-error-{conversation.pk}")


def test_a_too_long_error_goes_when_the_text_is_cleared_or_the_agent_writes_a_note(
    open_browser, app_a, agent_a
) -> None:
    desk, error = _thread(open_browser, app_a, agent_a)
    page = desk.page
    box = page.locator("#composer textarea[name=text]")
    too_long = "a" * (int(page.locator("#composer").get_attribute("data-max-length")) + 1)

    box.fill(too_long)
    box.press("Enter")
    expect(error).to_contain_text("Shorten it or split it in two.")
    box.fill(too_long[:-1])  # still as long as allowed: nothing is wrong any more
    expect(error).to_be_empty()

    box.fill(too_long)
    box.press("Enter")
    expect(error).to_contain_text("Shorten it or split it in two.")
    box.fill("")
    expect(error).to_be_empty()

    box.fill(too_long)
    box.press("Enter")
    expect(error).to_contain_text("Shorten it or split it in two.")
    page.locator("#mode-note").click()
    expect(page.locator("#note-text")).to_be_focused()
    expect(error).to_be_empty()


def test_choosing_another_file_takes_the_refused_files_error_away(open_browser, app_a, agent_a) -> None:
    desk, error = _thread(open_browser, app_a, agent_a)
    page = desk.page
    file_input = page.locator("#composer [data-role=file]")
    desk.watch.allow(r"status of 422")  # the server's refusal of the empty file is the point here

    file_input.set_input_files({"name": "vazio.pdf", "mimeType": "application/pdf", "buffer": b""})
    page.locator("#composer textarea[name=text]").press("Enter")
    expect(error).to_contain_text("“vazio.pdf” is empty.")  # the server refused it
    # The refused file came back with the text, as any reply the server did not take.
    expect(page.locator("#composer [data-role=file-preview]")).to_contain_text("vazio.pdf")

    file_input.set_input_files({"name": "boleto.pdf", "mimeType": "application/pdf", "buffer": PDF})
    expect(page.locator("#composer [data-role=file-preview]")).to_contain_text("boleto.pdf")
    expect(error).to_be_empty()


def test_an_empty_note_is_refused_with_a_sentence_that_goes_as_the_agent_writes(
    open_browser, app_a, agent_a
) -> None:
    desk, error = _thread(open_browser, app_a, agent_a)
    page = desk.page
    page.keyboard.press("n")
    note = page.locator("#note-text")
    expect(note).to_be_focused()

    note.press("Enter")
    expect(error).to_have_text("Write something first: a note cannot be empty.")
    expect(page.locator("#thread .msg-note")).to_have_count(0)

    note.press_sequentially("Cliente VIP")
    expect(error).to_be_empty()
    note.press("Enter")  # and a note with words is added, with no error
    expect(page.locator("#thread .msg-note")).to_contain_text("Cliente VIP")
    expect(error).to_be_empty()
