"""`make screenshots`: the README's pictures of the inbox and a thread, taken from realistic demo data.

Everything happens the real way: customers write through the Hub sandbox (signed webhooks to daphne),
agents reply by typing in the composer (the worker sends through the sandbox, whose status webhooks move
the ticks), and assign and resolve with the thread's controls. Only the customers' names are set
directly, as an admin would in the Django admin: the Hub sends no names, only ids. No emoji in the texts:
without the fonts-noto-color-emoji package Chromium draws them as empty boxes.

Selected with --screenshots (skipped otherwise). Writes docs/screenshots/inbox.png, thread.png, thread_team.png
(1280x800) and thread-phone.png (390x844), then inbox-pt-BR.png and thread-pt-BR.png: the same inbox and
the team's thread for Alice once her profile says Português (Brasil), in America/Sao_Paulo.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from channels_app.actions.preferences import do_update_preferences
from conversations.actions.labels import do_create_label, do_set_label
from conversations.actions.notes import do_add_note
from conversations.models import Contact, Conversation
from tests.browser.browser_support import BUBBLES, open_inbox, send_reply

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
SAO_PAULO = "America/Sao_Paulo"
HOUR_MS = 3_600_000
# Sandbox status delays that leave a reply at the wanted status for the length of the test.
DELAYS_FOR = {
    "read": {"sent": 50, "delivered": 120, "read": 200},
    "delivered": {"sent": 50, "delivered": 120, "read": HOUR_MS},
    "sent": {"sent": 50, "delivered": HOUR_MS, "read": HOUR_MS},
}


@dataclass(frozen=True)
class Customer:
    kind: str
    sender: str
    name: str = ""


JOANA = Customer("whatsapp", "5521987654321", "Joana Silva")
CARLA = Customer("whatsapp", "5511976543210", "Carla Mendes")
MARCOS = Customer("instagram", "17841405822304914", "Marcos Lima")
ANA = Customer("messenger", "6543210987654321", "Ana Costa")
PETER = Customer("sms", "+14155550123", "Peter Wong")
TELEGRAM_CHAT = Customer("telegram", "912345678")  # no name given: shown by its chat id
VISITOR = Customer("webchatt", "visitor-8f2c41")


def text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": body}


def image(sandbox: Any, caption: str) -> dict[str, Any]:
    url = f"{sandbox.url}/_sandbox/media/photo.png"  # served by the sandbox: nothing leaves loopback
    return {"type": "image", "image": {"url": url, "mimeType": "image/png", "caption": caption}}


def document(sandbox: Any, filename: str, caption: str) -> dict[str, Any]:
    url = f"{sandbox.url}/_sandbox/media/invoice.pdf"
    media = {"url": url, "mimeType": "application/pdf", "filename": filename, "caption": caption}
    return {"type": "document", "document": media}


def location(name: str, address: str, latitude: float, longitude: float) -> dict[str, Any]:
    return {
        "type": "location",
        "location": {"latitude": latitude, "longitude": longitude, "name": name, "address": address},
    }


class Demo:
    """Seeds the demo through the sandbox and the agents' browsers."""

    def __init__(self, sandbox: Any, app: Any, desks: dict[str, Any]) -> None:
        self.sandbox = sandbox
        self.app = app
        self.desks = desks

    def customer(self, who: Customer, *contents: dict[str, Any]) -> None:
        channel = self.app.channels.get(kind=who.kind)
        for content in contents:
            result = self.sandbox.customer_message(
                channel_id=str(channel.hub_channel_id), sender=who.sender, content=content
            )
            assert [d["statusCode"] for d in result["deliveries"]] == [200]
        if who.name:
            Contact.objects.filter(channel=channel, external_id=who.sender).update(display_name=who.name)

    def thread(self, agent: str, who: Customer) -> Any:
        page = self.desks[agent].page
        conversation = Conversation.objects.get(contact__external_id=who.sender)
        open_inbox(page, f"/conversations/{conversation.pk}/")
        return page

    def reply(self, agent: str, who: Customer, body: str, *, status: str) -> None:
        if status in DELAYS_FOR:
            self.sandbox.configure(statusDelaysMs=DELAYS_FOR[status])
        page = self.thread(agent, who)
        send_reply(page, body)
        bubble = page.locator(BUBBLES).filter(has_text=body)
        expect(bubble).to_have_attribute("data-status", status, timeout=10_000)

    def assign(self, agent: str, who: Customer, value: str) -> None:
        page = self.thread(agent, who)
        header = page.locator(".thread-header")
        header.locator("select[name=assignee]").select_option(value)
        expect(header).to_have_attribute(
            "data-assignee", value if value != "me" else str(self.desks[agent].user.pk)
        )

    def resolve(self, agent: str, who: Customer) -> None:
        page = self.thread(agent, who)
        page.locator(".thread-header [data-action=resolve]").click()
        expect(page.locator(".thread-header")).to_have_attribute("data-status", "resolved")


def _images_loaded(page: Any, timeout: float = 10.0) -> None:
    # Polled from here: wait_for_function evaluates its string with eval, which the pages' CSP refuses.
    deadline = time.monotonic() + timeout
    # An <img> without a source is a placeholder (the composer's hidden preview of an attachment).
    check = "() => [...document.images].every(img => !img.getAttribute('src') || img.naturalWidth > 0)"
    while not page.evaluate(check):
        assert time.monotonic() < deadline, "images did not load"
        page.wait_for_timeout(50)


def test_screenshots_of_the_inbox_and_a_thread(open_browser, hub_a, app_a, agent_a, admin):
    desks = {
        "alice": open_browser(agent_a, timezone_id=SAO_PAULO),
        "ada": open_browser(admin, timezone_id=SAO_PAULO),
    }
    demo = Demo(hub_a, app_a, desks)
    hub_a.configure(
        failingRecipients={
            PETER.sender: {"errorCode": "30007", "errorMessage": "Carrier filtered the message"}
        }
    )

    # Oldest activity first: the list shows the last one on top.
    demo.customer(ANA, text("Hi! Do you ship to Portugal?"))
    demo.reply("ada", ANA, "Yes, we do: 5 to 7 business days, with tracking.", status="read")
    demo.customer(ANA, text("Great, thank you!"))
    demo.resolve("ada", ANA)

    demo.customer(
        TELEGRAM_CHAT,
        location("Loja Sé", "Praça da Sé 108, São Paulo, SP", -23.5505, -46.6333),
        text("Can I pick my order up at this store?"),
    )
    demo.reply("alice", TELEGRAM_CHAT, "Yes! It is ready for pickup from 10am.", status="sent")

    demo.customer(MARCOS, image(hub_a, "Tem essa em azul?"))
    demo.reply("alice", MARCOS, "Temos sim! Azul no P, M e G.", status="delivered")
    demo.assign("alice", MARCOS, str(admin.pk))

    demo.customer(PETER, text("Is the store open on Sunday?"))
    demo.reply("alice", PETER, "Sundays 10am–4pm. See you there!", status="failed")

    demo.customer(
        JOANA,
        text("Oi! Meu pedido #A-7781 chegou, mas a peça veio com defeito na costura."),
        document(hub_a, "nota-fiscal-A-7781.pdf", "Segue a nota fiscal"),
    )
    demo.reply("alice", JOANA, "Sinto muito, Joana! Já abri a troca para você.", status="read")
    demo.customer(JOANA, text("Obrigada! Preciso devolver a peça?"))
    demo.reply(
        "alice",
        JOANA,
        "Não precisa: a coleta passa amanhã entre 9h e 12h. Pode confirmar o endereço?",
        status="read",
    )
    demo.customer(JOANA, location("Casa", "Rua da Assembleia 10, Centro, Rio de Janeiro", -22.9035, -43.1760))
    demo.reply("alice", JOANA, "Endereço confirmado! Qualquer coisa é só chamar.", status="delivered")
    # Alice's first reply already took Joana's conversation (assign on first reply).

    demo.customer(VISITOR, text("Vocês aceitam PIX?"), text("É para um pedido de R$ 129,90"))
    demo.customer(CARLA, text("Bom dia! O boleto venceu ontem, podem gerar outro?"))

    SHOTS.mkdir(parents=True, exist_ok=True)
    page = desks["alice"].page

    open_inbox(page, "/")
    # The default view: the open conversations (Ana's, resolved, is under "All statuses").
    expect(page.locator("#inbox-list [data-conversation-id]")).to_have_count(6)
    page.screenshot(path=SHOTS / "inbox.png")

    joana = Conversation.objects.get(contact__external_id=JOANA.sender)
    open_inbox(page, f"/conversations/{joana.pk}/")
    expect(page.locator(f"{BUBBLES}:not([data-direction=activity])")).to_have_count(7)
    _images_loaded(page)
    page.screenshot(path=SHOTS / "thread.png")

    # The team's view of the same thread: labels, a note with a mention, activity lines.
    troca = do_create_label(actor=admin, application=app_a, name="Troca", colour="#f08c00")
    vip = do_create_label(actor=admin, application=app_a, name="VIP", colour="#7048e8")
    for label in (troca, vip):
        do_set_label(conversation=joana, label=label, on=True, actor=admin)
    do_add_note(
        conversation=joana,
        author=admin,
        text="@alice cliente VIP: pode mandar a peça nova antes da coleta.",
    )
    open_inbox(page, f"/conversations/{joana.pk}/")
    expect(page.locator(".msg-note")).to_have_count(1)
    _images_loaded(page)
    page.screenshot(path=SHOTS / "thread_team.png")

    phone = open_browser(agent_a, viewport=PHONE, timezone_id=SAO_PAULO, is_mobile=True, has_touch=True)
    open_inbox(phone.page, f"/conversations/{joana.pk}/")
    expect(phone.page.locator(BUBBLES)).to_have_count(8)  # the seven messages and the team's note
    _images_loaded(phone.page)
    phone.page.screenshot(path=SHOTS / "thread-phone.png")

    # The same desk in Portuguese: her profile's language and zone, as she would set them in the profile.
    do_update_preferences(actor=agent_a, language="pt-br", time_zone=SAO_PAULO)
    portuguese = open_browser(agent_a, timezone_id=SAO_PAULO, locale="pt-BR").page
    open_inbox(portuguese, "/")
    expect(portuguese.locator("html")).to_have_attribute("lang", "pt-br")
    expect(portuguese.locator("#inbox-list [data-conversation-id]")).to_have_count(6)
    portuguese.screenshot(path=SHOTS / "inbox-pt-BR.png")
    open_inbox(portuguese, f"/conversations/{joana.pk}/")
    expect(portuguese.locator(".msg-note")).to_have_count(1)
    _images_loaded(portuguese)
    portuguese.screenshot(path=SHOTS / "thread-pt-BR.png")

    shots = (
        "inbox.png",
        "thread.png",
        "thread_team.png",
        "thread-phone.png",
        "inbox-pt-BR.png",
        "thread-pt-BR.png",
    )
    for name in shots:
        assert (SHOTS / name).stat().st_size > 10_000, f"{name} looks empty"
