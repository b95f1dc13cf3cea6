"""One reply, one local time: a user in São Paulo sees the same time for it in the thread, the delivery
review's table and the CSV, whatever zone the browser itself is in."""

from __future__ import annotations

import csv
import io
import re
import zoneinfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from channels_app.actions.preferences import do_update_preferences
from tests.browser.browser_support import open_inbox
from tests.browser.test_accessibility import _thread_with_replies

pytestmark = pytest.mark.browser

SAO_PAULO = "America/Sao_Paulo"


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_one_reply_shows_one_local_time_in_thread_review_and_csv(
    open_browser, app_a, admin, language
) -> None:
    do_update_preferences(actor=admin, language=language, time_zone=SAO_PAULO)
    conversation = _thread_with_replies(app_a, admin)
    reply = conversation.messages.filter(direction="out").order_by("pk").first()
    expected = timezone.localtime(reply.created_at, zoneinfo.ZoneInfo(SAO_PAULO)).strftime("%H:%M")
    # A browser in Tokyo: the page must still speak the profile's zone, not the machine's.
    desk = open_browser(admin, timezone_id="Asia/Tokyo")

    open_inbox(desk.page, f"/conversations/{conversation.pk}/")
    bubble_time = desk.page.locator(f"#msg-{reply.pk} .msg-meta time")
    expect(bubble_time).to_have_text(expected)

    desk.page.goto("/review/")
    row_time = desk.page.locator(f'tr[data-message="{reply.pk}"] time').inner_text()
    assert re.search(rf"\b{expected}:\d\d\b", row_time), row_time

    export = desk.page.request.get("/review/export.csv")
    assert export.ok
    rows = list(csv.DictReader(io.StringIO(export.body().decode("utf-8-sig"))))
    column = next(name for name in rows[0] if name.startswith("created_at"))
    assert SAO_PAULO in column
    exported = next(row[column] for row in rows if row["id"] == str(reply.pk))
    assert exported[11:16] == expected and exported.endswith("-03:00"), exported
