"""An agent reacts to a customer's message and quote-replies to it, from the bubble's own buttons."""

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import BUBBLES, bubble_with, open_inbox, open_thread, row_for
from tests.support import wait_for

pytestmark = pytest.mark.browser

CUSTOMER = "5521987654321"


def _thread_with_a_question(open_browser, hub, app, agent, message_id: str, text: str):
    """The customer's WhatsApp message (with the Hub id an agent's reaction or quote names), open in the
    agent's inbox. Returns the channel's Hub id and the page."""
    channel_id = str(app.channels.get(kind="whatsapp").hub_channel_id)
    hub.customer_message(
        channel_id=channel_id, sender=CUSTOMER, message_id=message_id, content={"type": "text", "text": text}
    )
    page = open_browser(agent).page
    open_inbox(page)
    open_thread(page, CUSTOMER)
    return channel_id, page


def test_an_agent_reacts_and_quotes_a_customers_message(open_browser, hub_a, app_a, agent_a):
    channel_id, page = _thread_with_a_question(
        open_browser, hub_a, app_a, agent_a, "wamid.q-1", "Qual o prazo?"
    )
    # Opening the thread marks it read, and that live redraw replaces the bubble: act once it has settled.
    expect(row_for(page, CUSTOMER).locator(".badge")).to_have_count(0)
    question = bubble_with(page, "Qual o prazo?")

    question.get_by_text("React").click()
    question.get_by_role("button", name="React with 👍").click()
    expect(question.locator(".reaction-badge[data-who=agent]")).to_contain_text("👍")
    reaction = wait_for(
        lambda: [s for s in hub_a.accepted_sends(channel_id=channel_id) if "reaction" in s["content"]],
        what="the Hub got the reaction",
    )
    assert reaction[0]["content"]["reaction"] == {"messageId": "wamid.q-1", "emoji": "👍"}
    expect(page.locator(BUBBLES)).to_have_count(1)  # the reaction is no bubble of its own

    question.get_by_role("button", name="Reply").click()
    expect(page.locator("#composer [data-role=quote]")).to_contain_text("Qual o prazo?")
    box = page.locator("#composer textarea[name=text]")
    box.fill("Dois dias úteis")
    box.press("Enter")

    answer = bubble_with(page, "Dois dias úteis")
    expect(answer.locator(".msg-quote")).to_contain_text("Qual o prazo?")
    expect(page.locator("#composer [data-role=quote]")).to_be_hidden()
    sent = wait_for(
        lambda: [s for s in hub_a.accepted_sends(channel_id=channel_id) if s["content"].get("text")],
        what="the Hub got the quote-reply",
    )
    assert sent[0]["content"] == {"text": "Dois dias úteis", "replyTo": "wamid.q-1"}


def test_the_react_menu_stays_open_when_its_bubble_is_redrawn(open_browser, hub_a, app_a, agent_a):
    channel_id, page = _thread_with_a_question(open_browser, hub_a, app_a, agent_a, "wamid.q-2", "Oi?")
    question = bubble_with(page, "Oi?")
    question.get_by_text("React").click()
    expect(question.locator("details.msg-react")).to_have_attribute("open", "")

    # The customer reacts to the same message meanwhile: the bubble is drawn again, with their reaction.
    hub_a.customer_message(
        channel_id=channel_id,
        sender=CUSTOMER,
        content={"type": "reaction", "reaction": {"messageId": "wamid.q-2", "emoji": "❤️"}},
    )
    expect(question.locator(".reaction-badge[data-who=customer]")).to_contain_text("❤️")

    expect(question.locator("details.msg-react")).to_have_attribute(
        "open", ""
    )  # the agent's menu: still open
    question.get_by_role("button", name="React with 👍").click()
    expect(question.locator(".reaction-badge[data-who=agent]")).to_contain_text("👍")
    expect(question.locator("details.msg-react")).not_to_have_attribute("open", "")  # chosen: it closes
