"""A customer's reaction shows on the bubble it reacts to: no bubble of its own, no unread, no bump."""

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import BUBBLES, ROWS, bubble_with, customer_writes, open_inbox, open_thread

pytestmark = pytest.mark.browser

MARIA = "5521987654321"
JOAO = "5521911112222"


def test_a_customer_reaction_appears_on_the_target_bubble_without_a_bubble_or_unread(
    open_browser, hub_a, app_a, agent_a
):
    whatsapp = app_a.channels.get(kind="whatsapp")
    channel_id = str(whatsapp.hub_channel_id)
    hub_a.customer_message(
        channel_id=channel_id,
        sender=MARIA,
        message_id="wamid.maria-1",
        content={"type": "text", "text": "Chegou?"},
    )
    customer_writes(hub_a, whatsapp, JOAO, "Bom dia")  # João's row is now above Maria's
    desk = open_browser(agent_a)
    open_inbox(desk.page)
    open_thread(desk.page, MARIA)
    expect(desk.page.locator(ROWS).first).to_contain_text(JOAO)
    target = bubble_with(desk.page, "Chegou?")
    expect(target).to_have_count(1)
    maria_sort = desk.page.locator(ROWS).filter(has_text=MARIA).get_attribute("data-sort")

    hub_a.customer_message(
        channel_id=channel_id,
        sender=MARIA,
        content={"type": "reaction", "reaction": {"messageId": "wamid.maria-1", "emoji": "❤️"}},
    )

    expect(target.locator(".reaction-badge[data-who=customer]")).to_have_text("The customer reacted: ❤️")
    expect(desk.page.locator(BUBBLES)).to_have_count(1)
    # Not bumped: the row's place in the order (its sort key) is what it was. (While the agent is on a row
    # the list holds still anyway, so the row's position alone would prove nothing.)
    maria_row = desk.page.locator(ROWS).filter(has_text=MARIA)
    expect(maria_row).to_have_attribute("data-sort", maria_sort)
    expect(desk.page.locator(ROWS).first).to_contain_text(JOAO)
    expect(desk.page.locator(ROWS).filter(has_text=MARIA)).to_have_attribute("data-unread", "0")
    expect(desk.page.locator("#thread")).not_to_contain_text("Reacted")

    # The control: a real message from Maria does add a bubble and bump her row.
    customer_writes(hub_a, whatsapp, MARIA, "Obrigada")
    expect(desk.page.locator(BUBBLES)).to_have_count(2)
    expect(maria_row).not_to_have_attribute("data-sort", maria_sort)
    # The list held still under the agent; "show in order" puts Maria's row on top.
    desk.page.locator("#held-bar").click()
    expect(desk.page.locator(ROWS).first).to_contain_text(MARIA)
