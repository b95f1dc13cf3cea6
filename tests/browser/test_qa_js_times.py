"""Times as an agent in São Paulo reads them, from a browser in another zone: the thread's days are
São Paulo's days, and no time an agent reads carries seconds (only a reply's status history does)."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime

import pytest
from playwright.sync_api import expect

from channels_app.actions.preferences import do_update_preferences
from conversations.models import Message
from tests.browser.browser_support import open_inbox
from tests.inbox.inbox_support import add_message, make_conversation

pytestmark = pytest.mark.browser

SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")
SECONDS = re.compile(r"\d:\d\d:\d\d")


def _at(conversation, text: str, when: datetime) -> Message:
    message = add_message(conversation, content={"type": "text", "text": text}, at=when)
    Message.objects.filter(pk=message.pk).update(created_at=when)
    return message


def test_day_separators_follow_the_profile_zone_not_the_browsers(open_browser, app_a, agent_a) -> None:
    do_update_preferences(actor=agent_a, language="pt-br", time_zone="America/Sao_Paulo")
    conversation = make_conversation(app_a, name="Renata", text=None)
    # Around midnight in São Paulo; in Tokyo (12 hours ahead) all four are on the afternoon of one day,
    # the 28th for the first and the 30th for the others.
    older = _at(conversation, "Pedido feito", datetime(2024, 11, 27, 23, 50, tzinfo=SAO_PAULO))
    late = _at(conversation, "Boa noite", datetime(2024, 11, 29, 22, 55, tzinfo=SAO_PAULO))
    _at(conversation, "Alguém aí?", datetime(2024, 11, 29, 23, 59, tzinfo=SAO_PAULO))
    after_midnight = _at(conversation, "Já é outro dia", datetime(2024, 11, 30, 0, 4, tzinfo=SAO_PAULO))
    desk = open_browser(agent_a, timezone_id="Asia/Tokyo")
    # Now: 09:00 on the 30th in São Paulo, 21:00 on the 30th in Tokyo.
    desk.page.clock.set_fixed_time(datetime(2024, 11, 30, 9, 0, tzinfo=SAO_PAULO))

    open_inbox(desk.page, f"/conversations/{conversation.pk}/")

    expect(desk.page.locator(f"#msg-{after_midnight.pk} .msg-meta time")).to_have_text("00:04")
    separators = desk.page.locator("#thread .day-separator")
    expect(separators).to_have_text(["quarta-feira, 27 de novembro de 2024", "Ontem", "Hoje"])
    # Each day starts at its first bubble: the separators sit right before those.
    for separator, message in zip(separators.all(), (older, late, after_midnight), strict=True):
        following = separator.evaluate("el => el.nextElementSibling.id")
        assert following == f"msg-{message.pk}"


def test_times_an_agent_reads_have_no_seconds(open_browser, app_a, agent_a) -> None:
    do_update_preferences(actor=agent_a, language="pt-br", time_zone="America/Sao_Paulo")
    conversation = make_conversation(app_a, name="Renata", text="Oi")
    desk = open_browser(agent_a, timezone_id="Europe/Lisbon")
    page = desk.page
    open_inbox(page, f"/conversations/{conversation.pk}/")

    page.keyboard.press("z")
    page.locator(".snooze-form input[name=until]").fill("2030-01-02T09:00")
    page.locator(".snooze-form [data-snooze=custom]").click()

    until = page.locator(".thread-header .snoozed-until time")
    expect(until).to_have_text(re.compile(r"2030"))
    expect(until).to_have_text(re.compile(r"^2 de jan\. de 2030,? 09:00$"))
    line = page.locator("#thread .activity-line time[data-format=datetime]")
    expect(line).to_have_text(re.compile(r"^2 de jan\. de 2030,? 09:00$"))
    seen = page.locator("#thread .contact-facts time[data-format=datetime]")
    expect(seen.first).to_be_visible()
    # What the server drew (Y-m-d H:i) has been redrawn in the page's words (a month's name).
    expect(seen.first).to_have_text(re.compile(r"de \D+\. de \d{4}"))
    for text in [*seen.all_inner_texts(), until.get_attribute("title"), line.inner_text()]:
        assert not SECONDS.search(text), text
