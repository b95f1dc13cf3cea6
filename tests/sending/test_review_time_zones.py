"""The delivery review in each viewer's time zone: the table, the date filters, a reply's timeline and
the CSV (whose time columns name the zone, after a UTF-8 byte-order mark)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from channels_app.actions.preferences import do_update_preferences
from tests.conftest import login
from tests.sending.conftest import make_conversation
from tests.sending.test_review import reply

# 01:30 UTC on 7 January is still 6 January in São Paulo (UTC−3, no daylight saving since 2019).
LATE = datetime(2026, 1, 7, 1, 30, 5, tzinfo=UTC)


def _client(user, *, zone: str, language: str = "en"):
    do_update_preferences(actor=user, language=language, time_zone=zone)
    return login(user)


@pytest.fixture
def late_reply(app_a, agent_a):
    return reply(make_conversation(app_a, "sms"), author=agent_a, created_at=LATE)


@pytest.mark.django_db
def test_the_review_table_shows_the_same_reply_in_each_viewers_zone(admin, superuser, late_reply) -> None:
    sao_paulo = _client(admin, zone="America/Sao_Paulo").get("/review/").content.decode()
    utc = _client(superuser, zone="UTC").get("/review/").content.decode()
    assert '<time datetime="2026-01-06T22:30:05-03:00">6 Jan 2026, 22:30:05</time>' in sao_paulo
    assert "Days and times in America/Sao_Paulo." in sao_paulo
    assert '<time datetime="2026-01-07T01:30:05+00:00">7 Jan 2026, 01:30:05</time>' in utc
    assert "Days and times in UTC." in utc


@pytest.mark.django_db
def test_portuguese_has_its_own_date_format(admin, late_reply) -> None:
    page = _client(admin, zone="America/Sao_Paulo", language="pt-br").get("/review/").content.decode()
    assert ">06/01/2026 22:30:05</time>" in page
    assert "Dias e horários em America/Sao_Paulo." in page


@pytest.mark.django_db
def test_a_users_time_zone_is_not_left_behind_for_the_next_request(admin, agent_a, late_reply) -> None:
    assert (
        "Days and times in Asia/Tokyo." in _client(admin, zone="Asia/Tokyo").get("/review/").content.decode()
    )
    # Same thread, next request, a user with no zone: the server's (UTC), not Tokyo's.
    page = login(agent_a).get("/profile/").content.decode()
    assert "times are shown in UTC until you save one" in page


@pytest.mark.django_db
def test_the_date_filters_are_days_in_the_viewers_zone(admin, superuser, late_reply) -> None:
    query = "/review/?date_from=2026-01-06&date_to=2026-01-06"
    in_sao_paulo = _client(admin, zone="America/Sao_Paulo").get(query).content.decode()
    in_utc = _client(superuser, zone="UTC").get(query).content.decode()
    row = f'data-message="{late_reply.pk}"'
    assert row in in_sao_paulo  # 22:30 on the 6th there
    assert row not in in_utc  # 01:30 on the 7th here
    assert row in _client(superuser, zone="UTC").get(query.replace("06", "07")).content.decode()


@pytest.mark.django_db
def test_a_replys_timeline_is_in_the_viewers_zone(admin, late_reply) -> None:
    page = _client(admin, zone="America/Sao_Paulo").get(f"/review/messages/{late_reply.pk}/").content.decode()
    assert ">6 Jan 2026, 22:30:05.000</time>" in page
    assert "Times in America/Sao_Paulo." in page


@pytest.mark.django_db
def test_the_csv_starts_with_a_byte_order_mark_and_names_the_zone(admin, app_a, agent_a, late_reply) -> None:
    accents = reply(
        make_conversation(app_a, "telegram"),
        author=agent_a,
        created_at=LATE + timedelta(hours=1),
        text="Olá, ação ✓",
    )
    response = _client(admin, zone="America/Sao_Paulo").get("/review/export.csv")
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbfid,created_at (America/Sao_Paulo),")
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))}
    assert rows[str(late_reply.pk)]["created_at (America/Sao_Paulo)"] == "2026-01-06T22:30:05-03:00"
    assert rows[str(accents.pk)]["preview"] == "Olá, ação ✓"
    assert set(rows[str(late_reply.pk)]) >= {
        "sent_at (America/Sao_Paulo)",
        "delivered_at (America/Sao_Paulo)",
        "read_at (America/Sao_Paulo)",
    }
