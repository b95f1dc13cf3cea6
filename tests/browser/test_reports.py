"""The reports in a real browser, on the demo's kind of data (the sandbox's customers, an agent's
replies from the inbox): the charts draw, and a click on a chart opens the list behind the figure."""

import re

import pytest
from playwright.sync_api import expect

from channels_app.models import ServiceLevel
from tests.browser.browser_support import customer_writes, open_inbox, open_thread, send_reply

pytestmark = pytest.mark.browser


def test_a_lead_clicks_from_the_chart_to_the_messages_behind_it(open_browser, hub_a, app_a, agent_a, admin):
    ServiceLevel.objects.create(
        application=app_a, first_response_minutes=30, time_zone="UTC", business_hours=[]
    )
    whatsapp = app_a.channels.get(kind="whatsapp")
    for n in range(3):
        customer_writes(hub_a, whatsapp, f"55219880000{n:02d}", f"Question number {n}")
    desk = open_browser(agent_a)
    open_inbox(desk.page)
    # The waiting questions carry their target in the list.
    expect(desk.page.locator("[data-sla-due]")).to_have_count(3)
    open_thread(desk.page, "5521988000000")
    send_reply(desk.page, "Answering the first one.")
    expect(desk.page.locator("[data-sla-due]")).to_have_count(2)

    lead = open_browser(admin)
    lead.page.goto("/reports/")
    expect(lead.page.locator('[data-figure="messages_in"] dd')).to_have_text("3")
    expect(lead.page.locator('[data-figure="sla_met"] dd')).to_have_text("1")

    lead.page.get_by_role("link", name="Volume").click()
    canvas = lead.page.locator("canvas#chart-days")
    expect(canvas).to_have_attribute("data-drawn", "true")
    # Today is the last point of the customer messages' line: where Chart.js drew it.
    point = lead.page.evaluate(
        """() => {
            const chart = Chart.getChart(document.getElementById("chart-days"));
            const data = chart.getDatasetMeta(0).data;
            const last = data[data.length - 1];
            return {x: last.x, y: last.y};
        }"""
    )
    canvas.click(position={"x": point["x"], "y": point["y"]})

    expect(lead.page).to_have_url(re.compile(r"/reports/conversations/\?.*figure=received"))
    expect(lead.page.locator("tr[data-message]")).to_have_count(3)
    expect(lead.page.get_by_test_id("list-total")).to_have_text("3 items.")

    # The same figures are in the chart's data table, behind its toggle.
    lead.page.go_back()
    lead.page.get_by_text("Show the data table").click()
    expect(lead.page.locator('table[data-table="days"] tbody tr').last).to_contain_text("3")
