"""The contact panel, live: a colleague's change to the contact (notes, name, links) reaches the tabs that
have one of its threads open, as a `replace` frame drawn once per process and locale; no other tab, and
no tab of another Application, hears of it. A resync carries the panel too."""

from __future__ import annotations

import re

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.urls import reverse
from django.utils import timezone

from channels_app.actions.preferences import do_update_preferences
from channels_app.actions.webhooks import do_store_signing_secret
from channels_app.models import Membership
from conversations import fanout
from conversations.actions.contacts import do_link_contacts, do_save_contact_notes, do_unlink_contact
from conversations.actions.threads import do_rename_contact
from conversations.models import Contact, Conversation
from hubdash.asgi import application
from tests.conftest import _user, login
from tests.inbox.inbox_support import connect, frames_until_quiet, make_conversation, sync_message
from tests.ingest.ingest_support import HUB_SECRET, message_event, post_event

pytestmark = pytest.mark.django_db(transaction=True)

NOTES = 'Prefers <b>mornings</b> & "VIP"'
NOTES_ESCAPED = "Prefers &lt;b&gt;mornings&lt;/b&gt; &amp; &quot;VIP&quot;"


def run(scenario):
    return async_to_sync(scenario)()


def panel_in(frames: list[str], conversation: Conversation) -> str:
    """The conversation's panel in these frames ("" when none carries it)."""
    for frame in frames:
        match = re.search(rf'<details id="contact-panel-{conversation.pk}".*?</details>', frame, re.S)
        if match:
            return match.group(0)
    return ""


async def open_thread(user, conversation: Conversation | None):
    """A tab of `user` showing the inbox with this thread open (or no thread), synced and quiet."""
    socket = await connect(user, application)
    await socket.send_json_to(
        sync_message(conversation=conversation.pk if conversation else None, since=timezone.now().isoformat())
    )
    await frames_until_quiet(socket)
    return socket


def colleague_saves_notes(colleague, conversation: Conversation, notes: str) -> None:
    """Through the page, as a colleague's browser does it."""
    response = login(colleague).post(
        reverse("contact_notes", args=[conversation.pk]), {"notes": notes}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200


def test_a_colleagues_notes_reach_the_tab_with_the_thread_open_and_no_other(agent_a, admin, agent_b, app_a):
    conversation = make_conversation(app_a, name="Marta")
    other = make_conversation(app_a, name="Pedro")

    async def scenario():
        watching = await open_thread(agent_a, conversation)
        elsewhere = await open_thread(agent_a, other)
        # Another tenant's tab that claims the same thread: its Application is not the event's.
        stranger = await open_thread(agent_b, conversation)
        await database_sync_to_async(colleague_saves_notes)(admin, conversation, NOTES)
        heard = [await frames_until_quiet(s) for s in (watching, elsewhere, stranger)]
        for socket in (watching, elsewhere, stranger):
            await socket.disconnect()
        return heard

    watching, elsewhere, stranger = run(scenario)

    panel = panel_in(watching, conversation)
    assert 'data-live="replace"' in panel
    assert NOTES_ESCAPED in panel and "<b>mornings" not in panel
    assert "csrfmiddlewaretoken" not in panel  # frames post through htmx's header, as every frame's forms
    assert len(watching) == 1 and 'data-kind="event"' in watching[0]
    # The control above is the same setup: the tab with another thread and the other tenant hear nothing.
    assert elsewhere == [] and stranger == []


def test_linking_and_unlinking_redraw_the_panels_of_both_threads(agent_a, admin, app_a):
    whatsapp = make_conversation(app_a, external_id="5521999990000")
    instagram = make_conversation(app_a, kind="instagram", external_id="17840000000000001")

    async def scenario():
        on_whatsapp = await open_thread(agent_a, whatsapp)
        on_instagram = await open_thread(admin, instagram)
        await database_sync_to_async(do_link_contacts)(
            contact=whatsapp.contact, other=instagram.contact, actor=admin
        )
        linked = [await frames_until_quiet(s) for s in (on_whatsapp, on_instagram)]
        await database_sync_to_async(do_unlink_contact)(contact=instagram.contact, actor=agent_a)
        unlinked = [await frames_until_quiet(s) for s in (on_whatsapp, on_instagram)]
        for socket in (on_whatsapp, on_instagram):
            await socket.disconnect()
        return linked, unlinked

    linked, unlinked = run(scenario)

    assert "17840000000000001" in panel_in(linked[0], whatsapp)  # each sees the other channel
    assert "5521999990000" in panel_in(linked[1], instagram)
    assert panel_in(unlinked[0], whatsapp) and "17840000000000001" not in panel_in(unlinked[0], whatsapp)
    assert panel_in(unlinked[1], instagram) and "5521999990000" not in panel_in(unlinked[1], instagram)


def test_a_link_reaches_every_thread_of_the_person(agent_a, admin, app_a):
    """Linking a third contact to a person of two: the panels of all three threads list it."""
    a = make_conversation(app_a, external_id="5521999990000")
    b = make_conversation(app_a, kind="instagram", external_id="17840000000000001")
    c = make_conversation(app_a, kind="telegram", external_id="7700123")
    do_link_contacts(contact=a.contact, other=b.contact, actor=admin)
    third, person = Contact.objects.get(pk=c.contact_id), Contact.objects.get(pk=b.contact_id)

    async def scenario():
        sockets = [await open_thread(agent_a, conversation) for conversation in (a, b, c)]
        await database_sync_to_async(do_link_contacts)(contact=third, other=person, actor=admin)
        heard = [await frames_until_quiet(s) for s in sockets]
        for socket in sockets:
            await socket.disconnect()
        return heard

    heard = run(scenario)

    for frames, conversation in zip(heard, (a, b, c), strict=True):
        panel = panel_in(frames, conversation)
        assert all(i in panel for i in ("5521999990000", "17840000000000001", "7700123")), conversation


def test_a_rename_redraws_the_panel_and_every_tabs_row_and_header(agent_a, admin, app_a):
    conversation = make_conversation(app_a, name="Marta")
    linked = make_conversation(app_a, kind="instagram", name="marta.ig")
    do_link_contacts(contact=conversation.contact, other=linked.contact, actor=admin)

    async def scenario():
        watching = await open_thread(agent_a, conversation)
        on_the_list = await open_thread(admin, None)
        on_the_linked = await open_thread(admin, linked)
        await database_sync_to_async(do_rename_contact)(
            conversation=conversation, display_name="Marta <Souza>", actor=admin
        )
        heard = [await frames_until_quiet(s) for s in (watching, on_the_list, on_the_linked)]
        for socket in (watching, on_the_list, on_the_linked):
            await socket.disconnect()
        return heard

    watching, on_the_list, on_the_linked = run(scenario)

    html = "".join(watching)
    assert re.search(rf'<li id="conv-{conversation.pk}".*?Marta &lt;Souza&gt;', html, re.S)  # the row
    assert '<h2 id="thread-title">Marta &lt;Souza&gt;</h2>' in html  # the header
    assert '<h3 class="contact-panel-name">Marta &lt;Souza&gt;</h3>' in panel_in(watching, conversation)
    assert "Marta &lt;Souza&gt;" in "".join(on_the_list) and not panel_in(on_the_list, conversation)
    # The linked thread shows its own contact's name everywhere: only its row of the renamed one moves.
    assert not panel_in(on_the_linked, linked) and "thread-header" not in "".join(on_the_linked)


def test_the_panel_is_read_once_per_process_and_drawn_once_per_locale(agent_a, admin, app_a, monkeypatch):
    colleague = _user("colleague")
    Membership.objects.create(user=colleague, application=app_a, role=Membership.Role.AGENT)
    do_update_preferences(actor=agent_a, language="pt-br", time_zone="America/Sao_Paulo")
    do_update_preferences(actor=admin, language="en", time_zone="UTC")
    do_update_preferences(actor=colleague, language="en", time_zone="UTC")
    conversation = make_conversation(app_a, name="Marta")
    reads: list[int] = []
    draws: list[str] = []
    real_read, real_render = fanout.live_contact_panel, fanout.render_partial

    def counted_read(*, conversation_id: int):
        reads.append(conversation_id)
        return real_read(conversation_id=conversation_id)

    def counted_render(name: str, context):
        draws.append(name)
        return real_render(name, context)

    monkeypatch.setattr(fanout, "live_contact_panel", counted_read)
    monkeypatch.setattr(fanout, "render_partial", counted_render)

    async def scenario():
        sockets = [await open_thread(user, conversation) for user in (agent_a, admin, colleague)]
        await database_sync_to_async(do_save_contact_notes)(
            contact=conversation.contact, notes="Liga de manhã", actor=admin
        )
        heard = [await frames_until_quiet(s) for s in sockets]
        for socket in sockets:
            await socket.disconnect()
        return heard

    portuguese, english, english_too = run(scenario)

    assert reads == [conversation.pk]  # three tabs, one read
    assert draws == ["contact_panel", "contact_panel"]  # two locales, two drawings
    assert "Salvar notas" in panel_in(portuguese, conversation)
    assert "Save notes" in panel_in(english, conversation)
    assert english == english_too  # the very same frame


def test_a_resync_carries_the_panel_of_the_open_thread(agent_a, admin, app_a):
    conversation = make_conversation(app_a, name="Marta")
    do_save_contact_notes(contact=conversation.contact, notes="Saved while the tab was away", actor=admin)

    async def scenario():
        socket = await connect(agent_a, application)
        await socket.send_json_to(
            sync_message(conversation=conversation.pk, since=timezone.now().isoformat())
        )
        reconnect = await frames_until_quiet(socket)
        await socket.send_json_to(sync_message(gen=2, conversation=conversation.pk, scope="list"))
        list_only = await frames_until_quiet(socket)
        await socket.disconnect()
        return reconnect, list_only

    reconnect, list_only = run(scenario)

    assert "Saved while the tab was away" in panel_in(reconnect, conversation)
    assert 'data-kind="sync"' in reconnect[0]
    assert list_only and not panel_in(list_only, conversation)  # the list region alone


def test_a_linked_threads_new_status_reaches_the_panel_of_the_other(agent_a, admin, app_a, client):
    """Marta writes on WhatsApp and Instagram, linked as one person: the WhatsApp thread's panel lists the
    Instagram one with its status, which follows a colleague resolving it and Marta reopening it."""
    do_store_signing_secret(application=app_a, hub_webhook_id="hook-panel", secret=HUB_SECRET)  # connected
    whatsapp = make_conversation(app_a, name="Marta")
    instagram = make_conversation(app_a, kind="instagram", name="Marta")
    do_link_contacts(contact=whatsapp.contact, other=instagram.contact, actor=admin)
    unlinked = make_conversation(app_a, name="Pedro")

    def colleague_resolves() -> None:
        response = login(admin).post(
            reverse("set_status", args=[instagram.pk]), {"status": "resolved"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200

    def marta_writes_on_instagram() -> None:
        assert (
            post_event(
                client, app_a, message_event(instagram.channel, sender=instagram.contact.external_id)
            ).status_code
            == 200
        )

    async def scenario():
        watching = await open_thread(agent_a, whatsapp)
        elsewhere = await open_thread(agent_a, unlinked)
        await database_sync_to_async(colleague_resolves)()
        resolved = [await frames_until_quiet(s) for s in (watching, elsewhere)]
        await database_sync_to_async(marta_writes_on_instagram)()
        reopened = await frames_until_quiet(watching)
        for socket in (watching, elsewhere):
            await socket.disconnect()
        return resolved, reopened

    (watching, elsewhere), reopened = run(scenario)

    def instagram_pill(panel: str) -> str:
        item = re.search(rf'data-contact-id="{instagram.contact_id}".*?</li>', panel, re.S)
        assert item, panel
        pill = re.search(r'class="pill status-pill (status-\w+)"', item.group(0))
        return pill.group(1) if pill else ""

    assert instagram_pill(panel_in(watching, whatsapp)) == "status-resolved"
    assert panel_in(elsewhere, unlinked) == ""  # Pedro's panel lists no one else: not redrawn
    assert instagram_pill(panel_in(reopened, whatsapp)) == "status-open"
