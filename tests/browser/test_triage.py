"""Working a busy queue in the browser: j/k through a list that holds still under live updates, focus
that stays, snooze that a customer's message undoes, bulk resolve and bulk label seen by a colleague, the unread count
in the title."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import (
    ROWS,
    customer_writes,
    open_inbox,
    open_thread,
    row_for,
    set_membership,
)
from tests.inbox.inbox_support import make_conversation
from tests.support import wait_for

pytestmark = pytest.mark.browser

CUSTOMERS = [f"55219876500{n:02d}" for n in range(6)]


def _row_ids(page) -> list[str]:
    return page.locator(ROWS).evaluate_all("els => els.map(e => e.dataset.conversationId)")


def _open_thread_id(page) -> str:
    return page.locator("#thread").get_attribute("data-conversation-id")


def _settled_order(page, customers) -> list[str]:
    """The rows' ids once the list shows `customers` newest first: a live frame of the last customer's
    message may still move a row after the page loaded (nobody is on a row yet, so it reorders freely)."""
    newest_first = list(reversed(customers))
    wait_for(
        lambda: page.locator(f"{ROWS} .conv-name").all_inner_texts() == newest_first,
        what="the list in the order the customers wrote",
    )
    return _row_ids(page)


def _customers_write(hub, channel, customers, text="Olá") -> None:
    for customer in customers:
        customer_writes(hub, channel, customer, f"{text} de {customer}")


def test_j_visits_every_row_once_while_messages_arrive_on_other_rows(open_browser, hub_a, app_a, agent_a):
    whatsapp = app_a.channels.get(kind="whatsapp")
    _customers_write(hub_a, whatsapp, CUSTOMERS)
    desk = open_browser(agent_a)
    open_inbox(desk.page)
    expect(desk.page.locator(ROWS)).to_have_count(len(CUSTOMERS))
    order = _settled_order(desk.page, CUSTOMERS)  # the order to follow is the settled one
    customer_of = {row_id: CUSTOMERS[len(CUSTOMERS) - 1 - i] for i, row_id in enumerate(order)}

    visited = []
    for step in range(len(order)):
        desk.page.keyboard.press("j")
        expect(desk.page.locator("#thread")).to_have_attribute("data-conversation-id", order[step])
        visited.append(_open_thread_id(desk.page))
        # A customer further down and one already visited write: their rows would jump to the top.
        for other in {order[-1], order[0]} - {order[step]}:
            text = f"nova mensagem {step}"
            customer_writes(hub_a, whatsapp, customer_of[other], text)
            expect(desk.page.locator(f"#conv-{other} .conv-preview")).to_contain_text(text)
        expect(desk.page.locator(f"#conv-{order[step]}")).to_have_class(re.compile(r"\bis-active\b"))

    assert visited == order  # each row once, in the order the agent started with
    # The list says it held updates back, and puts the rows in order when asked.
    held = desk.page.locator("#held-bar")
    expect(held).to_be_visible()
    held.click()
    expect(held).to_be_hidden()
    expect(desk.page.locator(ROWS).first).to_have_attribute("data-conversation-id", re.compile(r"\d+"))
    assert _row_ids(desk.page)[0] in {order[0], order[-1]}


def test_a_whole_new_list_keeps_the_order_the_agent_is_walking(
    open_browser, hub_ab, app_a, app_b, agent_a, superuser
):
    """The server sends the list whole when the agent's access changes (and on a reconnect's resync
    after too much happened): while she works down the list, its rows keep their places and j goes on."""
    whatsapp = app_a.channels.get(kind="whatsapp")
    _customers_write(hub_ab, whatsapp, CUSTOMERS[:4])
    customer_writes(hub_ab, app_b.channels.get(kind="whatsapp"), CUSTOMERS[5], "Olá da Bravo")
    desk = open_browser(agent_a)
    open_inbox(desk.page)
    order = _settled_order(desk.page, CUSTOMERS[:4])
    desk.page.keyboard.press("j")
    desk.page.keyboard.press("j")
    expect(desk.page.locator("#thread")).to_have_attribute("data-conversation-id", order[1])
    customer_writes(hub_ab, whatsapp, CUSTOMERS[0], "subiu para o topo")  # the last row: now the newest
    expect(desk.page.locator(f"#conv-{order[-1]} .conv-preview")).to_contain_text("subiu para o topo")

    set_membership(actor=superuser, user=agent_a, application=app_b, role="agent")

    bravo = row_for(desk.page, CUSTOMERS[5])
    expect(bravo).to_have_count(1)  # the list came whole, with Bravo's conversation
    bravo_id = bravo.get_attribute("data-conversation-id")
    assert _row_ids(desk.page) == [bravo_id, *order]  # Bravo's where it sorts; the rest held still
    expect(desk.page.locator(f"#conv-{order[1]}")).to_have_class(re.compile(r"\bis-active\b"))
    expect(desk.page.locator("#held-bar")).to_be_visible()
    for step in (2, 3):
        desk.page.keyboard.press("j")
        expect(desk.page.locator("#thread")).to_have_attribute("data-conversation-id", order[step])


def test_the_thread_of_the_last_row_asked_for_wins(open_browser, hub_a, app_a, agent_a):
    """j twice in quick succession: the second row's thread shows, even when the first one's answer is
    slower (that answer arrives last and is not drawn over the second)."""
    whatsapp = app_a.channels.get(kind="whatsapp")
    _customers_write(hub_a, whatsapp, CUSTOMERS[:2])
    desk = open_browser(agent_a)
    open_inbox(desk.page)
    first, second = _settled_order(desk.page, CUSTOMERS[:2])
    slow: list = []
    ended: list = []  # the first thread's request, once answered
    desk.page.route(
        f"**/conversations/{first}/**", lambda route: slow.append(route)
    )  # its answer waits until released
    desk.page.on(
        "requestfinished", lambda request: f"/conversations/{first}/" in request.url and ended.append(request)
    )
    desk.page.keyboard.press("j")
    # Playwright delivers the page's events while the test is in one of its calls: ask the page something.
    wait_for(lambda: desk.page.evaluate("true") and slow, what="the first thread's request")
    desk.page.keyboard.press("j")
    expect(desk.page.locator("#thread")).to_have_attribute("data-conversation-id", second)
    slow[0].continue_()  # the first thread's answer comes now, after the second one's
    wait_for(lambda: desk.page.evaluate("true") and ended, what="the first thread's request to end")
    # The page stays on the second row: its thread, its highlight, its address.
    expect(desk.page.locator("#thread")).to_have_attribute("data-conversation-id", second)
    expect(desk.page.locator(f"#conv-{second}")).to_have_class(re.compile(r"\bis-active\b"))
    assert desk.page.url.rstrip("/").endswith(f"/conversations/{second}")


def test_focus_stays_on_the_row_after_a_live_update(open_browser, hub_a, app_a, agent_a):
    whatsapp = app_a.channels.get(kind="whatsapp")
    _customers_write(hub_a, whatsapp, CUSTOMERS[:3])
    desk = open_browser(agent_a)
    open_inbox(desk.page)
    desk.page.keyboard.press("j")
    first = _row_ids(desk.page)[0]
    expect(desk.page.locator("#thread")).to_have_attribute("data-conversation-id", first)
    focused = "document.activeElement && document.activeElement.closest('.conv-row') ? document.activeElement.closest('.conv-row').id : ''"
    assert desk.page.evaluate(focused) == f"conv-{first}"  # the control: focus is on the row

    customer_writes(hub_a, whatsapp, CUSTOMERS[2], "outra pergunta")  # the first row is CUSTOMERS[2]

    expect(desk.page.locator(f"#conv-{first} .conv-preview")).to_contain_text("outra pergunta")
    assert desk.page.evaluate(focused) == f"conv-{first}"
    expect(desk.page.locator(f"#conv-{first}")).to_have_class(re.compile(r"\bis-active\b"))
    desk.page.keyboard.press("j")  # and the keyboard goes on from there
    expect(desk.page.locator("#thread")).to_have_attribute("data-conversation-id", _row_ids(desk.page)[1])


def test_a_snoozed_conversation_disappears_and_comes_back_when_the_customer_writes(
    open_browser, hub_a, app_a, agent_a
):
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMERS[0], "Preciso de ajuda")
    desk = open_browser(agent_a)
    open_inbox(desk.page)
    desk.page.keyboard.press("j")
    expect(desk.page.locator("#thread")).to_be_visible()

    desk.page.keyboard.press("z")
    desk.page.locator(".snooze-form [data-snooze=tomorrow]").click()

    expect(row_for(desk.page, CUSTOMERS[0])).to_have_count(0)
    expect(desk.page.locator("#thread .thread-header .status-pill")).to_have_text("Snoozed")
    expect(desk.page.locator("#tab-count-all")).to_have_text("0")

    customer_writes(hub_a, whatsapp, CUSTOMERS[0], "Ainda estou esperando")

    row = row_for(desk.page, CUSTOMERS[0])
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-status", "open")
    expect(desk.page.locator("#tab-count-all")).to_have_text("1")


def test_bulk_resolve_of_three_selected_rows_updates_another_agents_tab(
    open_browser, hub_a, app_a, agent_a, admin
):
    whatsapp = app_a.channels.get(kind="whatsapp")
    _customers_write(hub_a, whatsapp, CUSTOMERS[:4])
    alice = open_browser(agent_a)
    ada = open_browser(admin)
    open_inbox(alice.page)
    open_inbox(ada.page)
    expect(ada.page.locator("#tab-count-all")).to_have_text("4")

    boxes = alice.page.locator(f"{ROWS} .row-select")
    boxes.nth(0).click()
    boxes.nth(2).click(modifiers=["Shift"])  # a range: the first three
    expect(alice.page.locator("#bulk-count")).to_contain_text("3")
    alice.page.locator("#bulk-form [data-bulk=resolve]").click()

    expect(alice.page.locator(ROWS)).to_have_count(1)
    expect(alice.page.locator("#inbox-toast")).to_contain_text("Done for 3 conversations.")
    expect(ada.page.locator(ROWS)).to_have_count(1)
    expect(ada.page.locator("#tab-count-all")).to_have_text("1")
    expect(row_for(ada.page, CUSTOMERS[0])).to_have_count(1)  # the oldest, not selected


def test_bulk_label_of_two_selected_rows_shows_its_chip_in_another_agents_tab(
    open_browser, hub_a, app_a, agent_a, admin
):
    from conversations.models import Label

    vip = Label.objects.create(application=app_a, name="VIP", colour=Label.COLOURS[0][0])
    whatsapp = app_a.channels.get(kind="whatsapp")
    _customers_write(hub_a, whatsapp, CUSTOMERS[:3])
    alice = open_browser(agent_a)
    ada = open_browser(admin)
    open_inbox(alice.page)
    open_inbox(ada.page)
    expect(ada.page.locator("#tab-count-all")).to_have_text("3")

    boxes = alice.page.locator(f"{ROWS} .row-select")
    boxes.nth(0).click()
    boxes.nth(1).click()
    expect(alice.page.locator("#bulk-count")).to_contain_text("2")
    alice.page.locator("#bulk-label").select_option(str(vip.pk))
    alice.page.locator("#bulk-form [data-bulk=label_add]").click()

    expect(alice.page.locator("#inbox-toast")).to_contain_text("Done for 2 conversations.")
    chips = f'{ROWS} .label-chip[data-label="{vip.pk}"]'
    expect(alice.page.locator(chips)).to_have_count(2)
    expect(ada.page.locator(chips)).to_have_count(2)
    expect(ada.page.locator(ROWS)).to_have_count(3)


def test_the_title_shows_the_unread_count(open_browser, hub_a, app_a, agent_a):
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMERS[0], "Primeira")
    desk = open_browser(agent_a)
    open_inbox(desk.page)
    expect(desk.page).to_have_title("(1) Inbox · Hubdash")

    customer_writes(hub_a, whatsapp, CUSTOMERS[1], "Segunda")

    expect(desk.page).to_have_title("(2) Inbox · Hubdash")
    expect(desk.page.locator("link[rel=icon]")).to_have_attribute("data-count", "2")


def test_the_title_counts_every_unread_conversation_not_only_the_loaded_rows(open_browser, app_a, agent_a):
    for n in range(40):  # more than the list's first page holds
        make_conversation(app_a, name=f"Cliente {n:02d}", unread=1)
    make_conversation(app_a, name="Já lida", unread=0)
    desk = open_browser(agent_a)
    open_inbox(desk.page)
    expect(desk.page.locator(ROWS)).to_have_count(30)  # the rest is further down, not loaded

    expect(desk.page).to_have_title("(40) Inbox · Hubdash")
    expect(desk.page.locator("link[rel=icon]")).to_have_attribute("data-count", "40")

    open_thread(desk.page, "Cliente 39")  # opening reads it; the count follows live

    expect(desk.page).to_have_title("(39) Cliente 39 · Inbox · Hubdash")
    expect(desk.page.locator("link[rel=icon]")).to_have_attribute("data-count", "39")


def test_day_separators_and_search_hits_in_the_thread(open_browser, hub_a, app_a, agent_a):
    from datetime import timedelta

    from django.utils import timezone

    from conversations.models import Message
    from tests.inbox.inbox_support import add_message, make_conversation

    conversation = make_conversation(app_a, name="Renata", text="Bom dia, o boleto venceu")
    later = add_message(conversation, content={"type": "text", "text": "Alguém pode ver?"})
    today = add_message(conversation, content={"type": "text", "text": "Ainda sem resposta sobre o boleto"})
    now = timezone.now()
    Message.objects.filter(pk=conversation.last_message_id).update(created_at=now - timedelta(days=9))
    Message.objects.filter(pk=later.pk).update(created_at=now - timedelta(days=1))
    Message.objects.filter(pk=today.pk).update(created_at=now)
    desk = open_browser(agent_a)

    open_inbox(desk.page, "/?q=boleto")
    row = row_for(desk.page, "Renata")
    expect(row.locator("mark.search-hit")).to_have_text("boleto")
    row.locator("a.conv-link").click()

    separators = desk.page.locator("#thread .day-separator")
    expect(separators).to_have_count(3)
    expect(separators.nth(1)).to_have_text("Yesterday")
    expect(separators.nth(2)).to_have_text("Today")
    hit = desk.page.locator(f"#msg-{today.pk}")  # the newest that matched
    expect(hit).to_have_class(re.compile(r"\bis-search-hit\b"))
    expect(hit.locator("mark.search-hit")).to_have_text("boleto")
    expect(desk.page.locator(f"#msg-{later.pk} mark")).to_have_count(0)


# Records each notification the page creates, then lets the browser's own Notification show it.
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  window.__notifications = [];
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notifications.push({ title, body: (options || {}).body || "" });
    }
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Recorded.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Recorded;
})();
"""


def test_a_desktop_notification_fires_for_a_message_to_a_conversation_assigned_to_me(
    open_browser, hub_a, app_a, agent_a
):
    from conversations.models import Conversation

    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMERS[0], "Oi")
    customer_writes(hub_a, whatsapp, CUSTOMERS[1], "Olá")
    Conversation.objects.filter(contact__external_id=CUSTOMERS[0]).update(assignee=agent_a)
    desk = open_browser(agent_a, permissions=["notifications"])
    desk.context.add_init_script(RECORD_NOTIFICATIONS)
    open_inbox(desk.page)
    assert desk.page.evaluate("Notification.permission") == "granted"

    customer_writes(hub_a, whatsapp, CUSTOMERS[1], "de alguém sem dono")  # the control: not mine
    customer_writes(hub_a, whatsapp, CUSTOMERS[0], "Meu pedido chegou quebrado")

    wait_for(lambda: desk.page.evaluate("window.__notifications.length"), timeout=10, what="a notification")
    notes = desk.page.evaluate("window.__notifications")
    assert notes == [{"title": f"{CUSTOMERS[0]} wrote", "body": "Meu pedido chegou quebrado"}]


def test_a_desktop_notification_fires_when_a_colleague_mentions_me_in_a_note(
    open_browser, hub_a, app_a, agent_a, admin
):
    customer_writes(hub_a, app_a.channels.get(kind="whatsapp"), CUSTOMERS[0], "Oi")
    ada = open_browser(admin, permissions=["notifications"])
    ada.context.add_init_script(RECORD_NOTIFICATIONS)
    open_inbox(ada.page)  # the list, not the thread: she is not looking at it
    alice = open_browser(agent_a)
    open_inbox(alice.page)
    open_thread(alice.page, CUSTOMERS[0])

    alice.page.keyboard.press("n")
    box = alice.page.locator("#note-text")
    box.press_sequentially("@ad")
    expect(alice.page.locator("#mention-picker .picker-item").first).to_contain_text("@ada")
    box.press("Enter")  # picks the member
    box.press_sequentially("can you call her back?")
    box.press("Enter")  # adds the note

    expect(ada.page.locator("#nav-mentions .nav-badge")).to_have_text("1")
    wait_for(lambda: ada.page.evaluate("window.__notifications.length"), timeout=10, what="a notification")
    notes = ada.page.evaluate("window.__notifications")
    assert notes == [{"title": "Alice Agent mentioned you in a note", "body": "@ada can you call her back?"}]


def test_the_profile_says_when_the_browser_blocks_notifications(open_browser, app_a, agent_a, stack):
    desk = open_browser(agent_a)
    desk.context.add_init_script(
        "Object.defineProperty(Notification, 'permission', { get: () => 'denied' });"
    )

    desk.page.goto("/profile/")

    status = desk.page.locator("#notification-permission")
    expect(status).to_have_attribute("data-permission", "denied")
    expect(status).to_contain_text("blocks notifications")
    expect(desk.page.locator("#allow-notifications")).to_be_hidden()
    desk.page.locator("#notifications button[type=submit]").click()  # saving still works
    expect(desk.page.locator(".flash")).to_contain_text("Notification settings saved.")


def test_the_contact_panel_shows_the_linked_contacts_other_channel(open_browser, hub_a, app_a, agent_a):
    whatsapp = app_a.channels.get(kind="whatsapp")
    instagram = app_a.channels.get(kind="instagram")
    customer_writes(hub_a, whatsapp, CUSTOMERS[0], "Oi pelo WhatsApp")
    customer_writes(hub_a, instagram, "17841400000000001", "Oi pelo Instagram")
    desk = open_browser(agent_a)
    open_inbox(desk.page)
    row_for(desk.page, CUSTOMERS[0]).locator("a.conv-link").click()
    panel = desk.page.locator("#thread .contact-panel")
    expect(panel).to_contain_text(CUSTOMERS[0])
    expect(panel.locator(".contact-linked-item")).to_have_count(1)

    panel.get_by_label("Link the same person on another channel").fill("178414")
    panel.locator(".link-candidate [data-action=link]").click()

    expect(panel.locator(".contact-linked-item")).to_have_count(2)
    other = panel.locator(".contact-linked-item", has_text="17841400000000001")
    expect(other.locator(".kind-icon")).to_have_attribute("aria-label", "Instagram")
    other.locator("a").click()  # that channel's conversation, with the same person beside it
    expect(desk.page.locator("#thread .thread-header")).to_contain_text("17841400000000001")
    expect(desk.page.locator("#thread .contact-panel")).to_contain_text(CUSTOMERS[0])


def test_the_contact_panel_waits_behind_its_button_on_a_phone(open_browser, hub_a, app_a, agent_a):
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMERS[0], "Oi")
    desk = open_browser(agent_a, viewport={"width": 390, "height": 844})
    open_inbox(desk.page)
    row_for(desk.page, CUSTOMERS[0]).locator("a.conv-link").click()

    panel = desk.page.locator("#thread .contact-panel")
    expect(panel).not_to_have_attribute("open", "")
    expect(panel.locator(".contact-facts")).to_be_hidden()
    panel.locator("summary").click()
    expect(panel.locator(".contact-facts")).to_be_visible()


def test_typing_a_search_keeps_the_tab_counts_without_asking_for_them(open_browser, app_a, agent_a):
    for name in ("Marta", "Pedro", "Paula"):
        make_conversation(app_a, name=name)
    make_conversation(app_a, name="Rita", status="resolved")
    desk = open_browser(agent_a)
    page = desk.page
    open_inbox(page)
    expect(page.locator("#tab-count-all")).to_have_text("3")
    with page.expect_response(lambda r: "q=Mar" in r.url) as typed:
        page.locator("#inbox-search").fill("Mar")
    expect(page.locator(ROWS)).to_have_count(1)
    # The answer to the typed search left the counts out (the page said which filters they count); the
    # tabs still show the open conversations, not the one row the search found.
    assert typed.value.request.headers.get("x-hubdash-counted", "").startswith("open|")
    assert "tab-count" not in typed.value.text()
    expect(page.locator("#tab-count-all")).to_have_text("3")

    # Another status is counted anew, and so is the way back.
    page.locator("#inbox-search").fill("")
    page.locator("#filter-status").select_option("resolved")
    expect(page.locator("#tab-count-all")).to_have_text("1")
    expect(page.locator("#view-unread")).to_have_attribute("data-counted", re.compile(r"^resolved\|"))
    page.locator("#filter-status").select_option("open")
    expect(page.locator("#tab-count-all")).to_have_text("3")
    assert not desk.watch.unexpected_errors()
