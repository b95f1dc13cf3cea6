"""The reports pages as a user sees them: access, the figures' links to their lists, CSV."""

from __future__ import annotations

import csv
import io
import re

import pytest

from channels_app.actions.preferences import do_update_preferences
from tests.conftest import login
from tests.reports.timeline import MONDAY

RANGE = f"date_from={MONDAY.isoformat()}&date_to={MONDAY.isoformat()}"


@pytest.fixture(autouse=True)
def sao_paulo(admin, agent_a):
    for user in (admin, agent_a):
        do_update_preferences(actor=user, language="en", time_zone="America/Sao_Paulo")


def figure(html: str, name: str) -> tuple[str, str]:
    """The link and the number of a figure of the overview."""
    match = re.search(rf'data-figure="{name}".*?<a href="([^"]+)">(\d+)</a>', html, re.S)
    assert match, name
    return match.group(1).replace("&amp;", "&"), match.group(2)


def test_a_lead_sees_every_figure_and_each_opens_its_list(story, admin):
    client = login(admin)
    page = client.get(f"/reports/?{RANGE}").content.decode()
    expected = {"opened": 4, "reopened": 2, "resolved": 3, "messages_in": 7, "unanswered": 1}
    for name, count in expected.items():
        link, shown = figure(page, name)
        assert int(shown) == count, name
        listing = client.get(link).content.decode()
        assert f"{count} item" in listing, name
    link, shown = figure(page, "messages_out")
    assert link.startswith("/review/?") and shown == "4"
    assert len(re.findall(r'class="review-row', client.get(link).content.decode())) == 4


def test_an_agent_sees_their_own_figures_only(story, agent_a, app_b, agent_b):
    page = login(agent_a).get(f"/reports/?{RANGE}").content.decode()
    assert 'data-testid="own-figures"' in page
    assert 'id="f-agent"' not in page
    assert figure(page, "resolved")[1] == "1"  # Alice resolved X once; Ada's two are not hers
    # Another tenant's Application in the query is as if none were asked: Bob sees only his own (nothing).
    other = login(agent_b).get(f"/reports/?application={story['x'].application_id}&{RANGE}").content.decode()
    assert figure(other, "opened")[1] == "0"
    assert "Acme Support" not in other


def test_the_pages_need_a_sign_in():
    assert login_redirect("/reports/") and login_redirect("/reports/export/summary.csv")


def login_redirect(path: str) -> bool:
    from django.test import Client

    response = Client().get(path)
    return response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("report", ["volume", "delivery", "agents"])
def test_each_report_page_shows_its_table(story, admin, report):
    page = login(admin).get(f"/reports/{report}/?{RANGE}")
    assert page.status_code == 200
    assert f'data-table="{"days" if report == "volume" else report}"' in page.content.decode()


def test_the_heat_map_cell_links_to_its_messages(story, admin):
    client = login(admin)
    page = client.get(f"/reports/volume/?{RANGE}").content.decode()
    match = re.search(r'<a href="([^"]+)" data-cell="0-10">(\d+)</a>', page)
    assert match and match.group(2) == "5"
    listing = client.get(match.group(1).replace("&amp;", "&")).content.decode()
    assert "5 items" in listing
    assert len(re.findall(r"<tr data-message=", listing)) == 5


def test_csv_exports_start_with_a_byte_order_mark(story, admin):
    client = login(admin)
    response = client.get(f"/reports/export/agents.csv?{RANGE}")
    body = response.content.decode("utf-8")
    assert response["Content-Type"].startswith("text/csv") and body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:3] == ["agent", "conversations", "replies"]
    by_agent = {row[0]: row for row in rows[1:]}
    assert by_agent["Alice Agent"][1:5] == ["3", "3", "3", "300"]
    assert by_agent["Carol"][1:4] == ["0", "0", "0"]
    for table in ("summary", "timings", "timings_by_channel", "days", "heat_map", "delivery"):
        exported = client.get(f"/reports/export/{table}.csv?{RANGE}")
        assert exported.status_code == 200 and exported.content.startswith("\ufeff".encode()), table
    assert client.get("/reports/export/nothing.csv").status_code == 404


def test_unknown_figures_and_bad_filters(admin):
    client = login(admin)
    assert client.get("/reports/conversations/?figure=secret").status_code == 404
    page = client.get("/reports/?date_from=yesterday").content.decode()
    assert 'id="filter-errors"' in page


@pytest.mark.parametrize("path", ["/reports/", "/reports/volume/", "/reports/delivery/", "/reports/agents/"])
def test_someone_without_an_application_sees_empty_reports(db, path):
    from django.contrib.auth import get_user_model

    loner = get_user_model().objects.create_user(username="loner", password="x")
    response = login(loner).get(path)
    assert response.status_code == 200
    assert "Acme Support" not in response.content.decode()
    assert login(loner).get("/reports/export/agents.csv").status_code == 200
