"""Who gets what, for every URL and websocket message: a table, checked against the URLconf.

`MATRIX` holds, for every URL pattern of `hubdash.urls` (the Django admin aside: one check below), the
expected answer to a GET and to a POST for each persona. `test_the_matrix_covers_every_url_pattern` walks
the resolver, so a new URL cannot be added without its row. URL arguments are objects of Application A;
`agent_b` and `admin_b` belong to Application B only, `deactivated` and `revoked` are agents of A whose
account was deactivated, or whose session row was deleted, after they signed in.

POSTs carry harmless or invalid data (each test runs in a transaction that is rolled back), so the
allowed personas get a deterministic 200 (form errors), 302 or 422, and the refused ones 403/404. On
top of the status, no answer to a persona who may not see A contains A's data, and the pages marked
`shows` do contain it for those who may (and B's data for B's personas: the control). A's Hub API key
is in no answer at all, and its webhook URL only in answers to A's admins.

The inbox websocket has its own table (`WS_MATRIX`, per message type the consumer handles).

A real authorization bug is written here as the secure outcome and marked in `KNOWN_BUGS` (strict
xfail), not fixed in the test.
"""

from __future__ import annotations

import inspect
import json
import re
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from channels_app.models import Application, Channel, Membership
from conversations.consumers import InboxConsumer
from conversations.models import CannedReply, Contact, Conversation, Label, Message, WebhookEvent
from conversations.routing import websocket_urlpatterns
from hubdash.asgi import application as asgi_application
from integrations.actions.tokens import do_create_token
from integrations.models import WebhookDelivery, WebhookSubscription
from tests.inbox.inbox_support import add_message, make_conversation, sync_message

# --- personas and outcomes ------------------------------------------------------------------------

PERSONAS = ("anonymous", "deactivated", "revoked", "agent_a", "agent_b", "admin_a", "admin_b", "superuser")
# Who may see Application A's conversations (and must, on a `shows` page); everyone else must not.
SEES_A = frozenset({"agent_a", "admin_a", "superuser"})
OF_B = frozenset({"agent_b", "admin_b"})
# Who may see A's webhook URL (its public id): anyone who has it can post events to A's inbox.
ADMINS_OF_A = frozenset({"admin_a", "superuser"})

LOGIN = "302 to login"  # a redirect to the sign-in page (with ?next=)
L = LOGIN

# Text that only Application A's data contains: none of it may reach someone who cannot see A.
MARKERS = ("Acme Tenant A", "Carla Acme-Customer", "acme inbound secret", "acme reply secret")
B_MARKERS = ("Bravo Tenant B", "Bruno Bravo-Customer", "bravo inbound words", "bravo reply words")


@dataclass(frozen=True)
class Row:
    """Expected status per persona (in PERSONAS order) for GET and for POST."""

    get: tuple[int | str, ...]
    post: tuple[int | str, ...]
    # POST body, from the world (harmless or invalid: it must not depend on a write succeeding).
    data: Callable[[World], dict[str, Any]] = lambda world: {}
    # A 200 to a GET shows the viewer's own tenant: A's data to SEES_A, B's to agent_b and admin_b (the
    # control that makes "no A data for them" mean something).
    shows: bool = False
    # POST `data` as a JSON body (the API, /api/v1/) rather than a form.
    json: bool = False

    def __post_init__(self) -> None:
        assert len(self.get) == len(self.post) == len(PERSONAS), self


# Columns:      anonymous  deactivated  revoked  agent_a  agent_b  admin_a  admin_b  superuser
SIGNED_OUT_405 = (L, L, L, 405, 405, 405, 405, 405)  # login_required outside require_GET/POST
U = 401  # the API without valid credentials (a deactivated user's or a deleted session is none)
API_200 = (U, U, U, 200, 200, 200, 200, 200)
API_405 = (U, U, U, 405, 405, 405, 405, 405)  # DRF: authentication first, then the method
API_OF_A = (U, U, U, 200, 404, 200, 404, 200)
API_400_OF_A = (U, U, U, 400, 404, 400, 404, 400)
API_ADMINS = (U, U, U, 403, 403, 200, 200, 200)  # agents lack the role
API_ADMINS_OF_A = (U, U, U, 403, 403, 200, 404, 200)
ALL_405 = (405,) * 8  # require_GET/POST outside the access check
ALL_404 = (404,) * 8
PUBLIC_200 = (200,) * 8

MATRIX: dict[str, Row] = {
    # --- django.contrib.auth (accounts/) ----------------------------------------------------------
    "accounts/login/": Row(PUBLIC_200, PUBLIC_200),  # POST: empty form, errors
    "accounts/logout/": Row(ALL_405, (L,) * 8),  # POST only; signs out whoever it is
    "accounts/password_change/": Row(
        (L, L, L, 200, 200, 200, 200, 200),
        (L, L, L, 200, 200, 200, 200, 200),  # empty form: errors, nothing changed
    ),
    "accounts/password_change/done/": Row((L, L, L, 200, 200, 200, 200, 200), SIGNED_OUT_405),
    # Without EMAIL_URL (as in the tests) the password-reset pages do not exist (hubdash/security.py).
    "accounts/password_reset/": Row(ALL_404, ALL_404),
    "accounts/password_reset/done/": Row(ALL_404, ALL_404),
    "accounts/reset/<uidb64>/<token>/": Row(ALL_404, ALL_404),
    "accounts/reset/done/": Row(ALL_404, ALL_404),
    # --- the Hub's webhook: no session involved; A was never connected, so every event is refused --
    "hub/webhook/<uuid:public_id>/": Row(ALL_405, (401,) * 8),
    # --- the legacy read API (each user's own Applications; 401 without credentials, as /api/v1/) --
    "api/applications/": Row(
        (U, U, U, 200, 200, 200, 200, 200),
        (U, U, U, 405, 405, 405, 405, 405),
        shows=True,
    ),
    # --- the public API (/api/v1/: a token or a session; 401 without; another tenant's objects 404,
    # a missing role 403; POSTs carry JSON that is invalid or harmless) ----------------------------
    "api/v1/": Row(PUBLIC_200, ALL_405),  # the index: public, the same for everyone
    "api/v1/schema/": Row(PUBLIC_200, ALL_405),
    "api/v1/docs/": Row(PUBLIC_200, ALL_405),
    "api/v1/me/": Row(API_200, API_405, shows=True),
    "api/v1/applications/": Row(
        API_200,
        (U, U, U, 403, 403, 400, 400, 400),  # an empty name: refused before the Hub is asked
        data=lambda world: {"name": "", "hub_api_key": "short"},
        shows=True,
        json=True,
    ),
    "api/v1/applications/<int:application_id>/": Row(API_OF_A, API_405, shows=True),
    "api/v1/applications/<int:application_id>/channels/": Row(
        API_OF_A,
        (U, U, U, 403, 404, 400, 404, 400),
        data=lambda world: {"display_name": ""},
        shows=True,
        json=True,
    ),
    "api/v1/channels/<int:channel_id>/": Row(API_OF_A, API_405, shows=True),
    "api/v1/conversations/": Row(API_200, API_405, shows=True),
    "api/v1/conversations/<int:conversation_id>/": Row(API_OF_A, API_405, shows=True),
    "api/v1/conversations/<int:conversation_id>/status/": Row(
        API_405, API_400_OF_A, data=lambda world: {"status": "no-such-status"}, json=True
    ),
    "api/v1/conversations/<int:conversation_id>/assign/": Row(
        API_405, API_400_OF_A, data=lambda world: {"assignee_id": "nobody"}, json=True
    ),
    "api/v1/conversations/<int:conversation_id>/messages/": Row(
        API_OF_A,
        API_400_OF_A,  # no Idempotency-Key: refused before anything is stored
        data=lambda world: {"text": "never stored"},
        shows=True,
        json=True,
    ),
    "api/v1/conversations/<int:conversation_id>/messages/<int:message_id>/": Row(
        API_OF_A, API_405, shows=True
    ),
    "api/v1/conversations/<int:conversation_id>/messages/<int:message_id>/retry/": Row(
        API_405,
        (U, U, U, 422, 404, 422, 404, 422),  # the reply was delivered: "only a failed reply…"
    ),
    "api/v1/conversations/<int:conversation_id>/notes/": Row(
        API_OF_A,
        API_400_OF_A,
        data=lambda world: {"text": ""},
        json=True,  # empty: nothing stored
    ),
    "api/v1/conversations/<int:conversation_id>/labels/": Row(API_OF_A, API_405),
    "api/v1/applications/<int:application_id>/labels/": Row(API_OF_A, API_405, shows=True),
    "api/v1/contacts/": Row(API_200, API_405, shows=True),
    "api/v1/contacts/<int:contact_id>/": Row(API_OF_A, API_405, shows=True),
    "api/v1/webhook-events/": Row(API_ADMINS, API_405),
    "api/v1/webhook-events/<int:event_id>/": Row(API_ADMINS_OF_A, API_405, shows=True),
    "api/v1/review/summary/": Row(API_ADMINS, API_405),
    "api/v1/applications/<int:application_id>/webhooks/": Row(
        (U, U, U, 403, 404, 200, 404, 200),
        (U, U, U, 403, 404, 400, 404, 400),
        data=lambda world: {"url": "", "events": []},
        shows=True,
        json=True,
    ),
    "api/v1/webhooks/<int:subscription_id>/": Row(API_ADMINS_OF_A, API_405, shows=True),
    "api/v1/webhooks/<int:subscription_id>/rotate-secret/": Row(API_405, API_ADMINS_OF_A),
    "api/v1/webhooks/<int:subscription_id>/deliveries/": Row(API_ADMINS_OF_A, API_405),
    "api/v1/webhooks/<int:subscription_id>/deliveries/<int:delivery_id>/": Row(
        API_ADMINS_OF_A, API_405, shows=True
    ),
    "api/v1/webhooks/<int:subscription_id>/deliveries/<int:delivery_id>/resend/": Row(
        API_405, (U, U, U, 403, 403, 202, 404, 202)
    ),
    "api/v1/<path:rest>": Row(ALL_404, ALL_404),  # any other URL under the API: its JSON 404
    # --- reports (every member; an agent sees their own figures; others' Applications never) -----
    "reports/": Row((L, L, L, 200, 200, 200, 200, 200), ALL_405, shows=True),
    "reports/volume/": Row((L, L, L, 200, 200, 200, 200, 200), ALL_405, shows=True),
    "reports/delivery/": Row((L, L, L, 200, 200, 200, 200, 200), ALL_405, shows=True),
    "reports/agents/": Row((L, L, L, 200, 200, 200, 200, 200), ALL_405, shows=True),
    "reports/conversations/": Row((L, L, L, 404, 404, 404, 404, 404), ALL_405),  # no figure asked
    "reports/export/<slug:table>.csv": Row((L, L, L, 200, 200, 200, 200, 200), ALL_405),
    # --- delivery review (admins of an Application and superusers; agents 403) --------------------
    "review/": Row((L, L, L, 403, 403, 200, 200, 200), ALL_405, shows=True),
    "review/export.csv": Row((L, L, L, 403, 403, 200, 200, 200), ALL_405, shows=True),
    "review/messages/<int:message_id>/": Row((L, L, L, 403, 403, 200, 404, 200), ALL_405, shows=True),
    "review/retry/": Row(ALL_405, (L, L, L, 403, 403, 302, 302, 302)),  # nothing selected
    # --- settings (admins of an Application and superusers; agents 403; B's admin 404 on A) --------
    "settings/": Row((L, L, L, 403, 403, 200, 200, 200), ALL_405, shows=True),
    "settings/applications/new/": Row(
        (L, L, L, 403, 403, 200, 200, 200),
        (L, L, L, 403, 403, 200, 200, 200),  # empty form: errors, no Hub call
    ),
    "settings/applications/<int:application_id>/": Row(
        (L, L, L, 403, 403, 200, 404, 200),
        (L, L, L, 403, 403, 200, 404, 200),  # empty name: errors
        shows=True,
    ),
    "settings/applications/<int:application_id>/key/": Row(
        ALL_405,
        (L, L, L, 403, 403, 200, 404, 200),  # empty key: errors, no Hub call
    ),
    "settings/applications/<int:application_id>/service-level/": Row(
        ALL_405,
        (L, L, L, 403, 403, 400, 404, 400),  # no time zone: errors, nothing stored
    ),
    "settings/applications/<int:application_id>/test-connection/": Row(
        ALL_405,
        (L, L, L, 403, 403, 302, 404, 302),  # the Hub is unreachable here: "Connection failed"
    ),
    "settings/applications/<int:application_id>/channels/new/": Row(
        (L, L, L, 403, 403, 200, 404, 200),
        (L, L, L, 403, 403, 200, 404, 200),  # empty form: errors
        shows=True,
    ),
    "settings/channels/<int:channel_id>/": Row(
        (L, L, L, 403, 403, 200, 404, 200),
        (L, L, L, 403, 403, 200, 404, 200),  # empty display name: errors
        shows=True,
    ),
    "settings/channels/<int:channel_id>/active/": Row(
        ALL_405,
        (L, L, L, 403, 403, 302, 404, 302),
        data=lambda world: {"active": "1"},  # it is active already
    ),
    "settings/channels/<int:channel_id>/templates/": Row(
        (L, L, L, 403, 403, 200, 404, 200),
        (L, L, L, 403, 403, 422, 404, 422),  # empty form: errors, nothing stored
        shows=True,
    ),
    "settings/channels/<int:channel_id>/templates/<int:template_id>/delete/": Row(
        ALL_405, (L, L, L, 403, 403, 302, 404, 302)
    ),
    "settings/channels/<int:channel_id>/test-message/": Row(
        ALL_405,
        (L, L, L, 403, 403, 200, 404, 200),  # no recipient: errors, nothing sent
    ),
    "settings/applications/<int:application_id>/webhooks/": Row(
        (L, L, L, 403, 403, 200, 404, 200), ALL_405, shows=True
    ),
    "settings/applications/<int:application_id>/webhooks/connect/": Row(
        ALL_405,
        (L, L, L, 403, 403, 302, 404, 302),  # the Hub is unreachable: "Could not connect"
    ),
    "settings/applications/<int:application_id>/webhooks/refresh/": Row(
        ALL_405, (L, L, L, 403, 403, 302, 404, 302)
    ),
    "settings/applications/<int:application_id>/webhooks/recover/": Row(
        ALL_405, (L, L, L, 403, 403, 302, 404, 302)
    ),
    "settings/applications/<int:application_id>/webhooks/unsigned/": Row(
        ALL_405,
        (L, L, L, 403, 403, 302, 404, 302),  # no choice posted: "Choose…", the switch stays off
    ),
    "settings/applications/<int:application_id>/webhooks/logs/": Row(
        (L, L, L, 403, 403, 200, 404, 200), ALL_405, shows=True
    ),
    "settings/applications/<int:application_id>/webhooks/logs/retry/": Row(
        ALL_405,
        (L, L, L, 403, 403, 302, 404, 302),  # nothing selected
    ),
    "settings/team/": Row((L, L, L, 403, 403, 200, 200, 200), ALL_405),
    "settings/team/new/": Row(
        (L, L, L, 403, 403, 200, 200, 200),
        (L, L, L, 403, 403, 200, 200, 200),  # empty form: errors
    ),
    "settings/team/<int:user_id>/": Row(
        (L, L, L, 403, 403, 200, 404, 200),
        (L, L, L, 403, 403, 200, 404, 200),
        data=lambda world: {f"role_{world.app_a.pk}": "no-such-role"},  # refused, access unchanged
        shows=True,
    ),
    "settings/team/<int:user_id>/active/": Row(
        ALL_405,
        (L, L, L, 403, 403, 302, 404, 302),
        data=lambda world: {"active": "1"},  # active already
    ),
    "settings/audit/": Row((L, L, L, 403, 403, 200, 200, 200), ALL_405),
    "settings/health/": Row((L, L, L, 403, 403, 200, 200, 200), ALL_405, shows=True),
    # --- Applications page (every member) ---------------------------------------------------------
    "applications/": Row(
        (L, L, L, 200, 200, 200, 200, 200),
        (L, L, L, 200, 200, 200, 200, 200),  # a read-only page with no method restriction
        shows=True,
    ),
    # --- the user's own profile (language and time zone: every signed-in user, their own only) -------
    "profile/": Row(
        (L, L, L, 200, 200, 200, 200, 200),
        (L, L, L, 200, 200, 200, 200, 200),  # nothing posted: the form again, nothing saved
    ),
    # --- the JavaScript catalog (translations of static/js: public, like the scripts themselves) -----
    "jsi18n/": Row(PUBLIC_200, ALL_405),
    # --- the user's own API tokens (every signed-in user; the token is agent_a's) ------------------
    "profile/notifications/": Row(ALL_405, (L, L, L, 302, 302, 302, 302, 302)),  # the user's own
    "profile/api-tokens/": Row(
        (L, L, L, 200, 200, 200, 200, 200),
        (L, L, L, 200, 200, 200, 200, 200),  # no name: the form again, no token
    ),
    "profile/api-tokens/<int:token_id>/revoke/": Row(ALL_405, (L, L, L, 302, 404, 404, 404, 404)),
    # --- outgoing webhooks in the settings (admins; agents 403; B's admin 404 on A's) ---------------
    "settings/applications/<int:application_id>/outgoing-webhooks/": Row(
        (L, L, L, 403, 403, 200, 404, 200),
        (L, L, L, 403, 403, 200, 404, 200),  # empty form: errors, nothing added
        shows=True,
    ),
    "settings/outgoing-webhooks/<int:subscription_id>/": Row(
        (L, L, L, 403, 403, 200, 404, 200),
        (L, L, L, 403, 403, 200, 404, 200),  # empty form: errors, nothing changed
        shows=True,
    ),
    "settings/outgoing-webhooks/<int:subscription_id>/rotate-secret/": Row(
        ALL_405, (L, L, L, 403, 403, 200, 404, 200)
    ),
    "settings/outgoing-webhooks/<int:subscription_id>/delete/": Row(
        ALL_405, (L, L, L, 403, 403, 302, 404, 302)
    ),
    "settings/outgoing-webhooks/<int:subscription_id>/deliveries/<int:delivery_id>/resend/": Row(
        ALL_405, (L, L, L, 403, 403, 302, 404, 302)
    ),
    # --- the inbox (every member of the conversation's Application; others 404, never 403) ---------
    "": Row((L, L, L, 200, 200, 200, 200, 200), SIGNED_OUT_405, shows=True),
    "conversations/<int:conversation_id>/": Row(
        (L, L, L, 200, 404, 200, 404, 200), SIGNED_OUT_405, shows=True
    ),
    "conversations/<int:conversation_id>/messages/": Row(
        (L, L, L, 200, 404, 200, 404, 200), SIGNED_OUT_405, shows=True
    ),
    "conversations/<int:conversation_id>/messages/<int:message_id>/timeline/": Row(
        (L, L, L, 200, 404, 200, 404, 200), SIGNED_OUT_405
    ),
    "conversations/<int:conversation_id>/messages/<int:message_id>/retry/": Row(
        SIGNED_OUT_405,
        (L, L, L, 422, 404, 422, 404, 422),  # the reply was delivered: "only a failed reply…"
    ),
    "conversations/<int:conversation_id>/messages/<int:message_id>/react/": Row(
        SIGNED_OUT_405,
        (L, L, L, 422, 404, 422, 404, 422),  # the message is a reply: only a customer's can be reacted to
    ),
    # An attachment's signed link: no session needed, so the same for everyone; this token is not one.
    "media/<str:token>/<str:name>": Row(ALL_404, ALL_405),
    "conversations/<int:conversation_id>/reply/": Row(
        SIGNED_OUT_405,
        (L, L, L, 422, 404, 422, 404, 422),  # no content: refused before anything is stored
    ),
    "conversations/<int:conversation_id>/assign/": Row(
        SIGNED_OUT_405,
        (L, L, L, 302, 404, 302, 404, 302),
        data=lambda world: {"assignee": ""},  # unassigned already
    ),
    "conversations/<int:conversation_id>/status/": Row(
        SIGNED_OUT_405,
        (L, L, L, 422, 404, 422, 404, 422),
        data=lambda world: {"status": "no-such-status"},
    ),
    "conversations/<int:conversation_id>/unread/": Row(SIGNED_OUT_405, (L, L, L, 302, 404, 302, 404, 302)),
    "conversations/<int:conversation_id>/contact/": Row(
        SIGNED_OUT_405,
        (L, L, L, 302, 404, 302, 404, 302),
        data=lambda world: {"display_name": world.contact.display_name},  # the same name
    ),
    "conversations/<int:conversation_id>/read/": Row(SIGNED_OUT_405, (L, L, L, 302, 404, 302, 404, 302)),
    # --- the team in the thread: notes, labels, mentions (members of A; others 404) ----------------
    "conversations/<int:conversation_id>/notes/": Row(
        SIGNED_OUT_405,
        (L, L, L, 422, 404, 422, 404, 422),  # an empty note: refused, nothing stored
    ),
    "conversations/<int:conversation_id>/labels/": Row(
        SIGNED_OUT_405,
        (L, L, L, 422, 404, 422, 404, 422),  # no label named: refused
    ),
    "mentions/": Row((L, L, L, 200, 200, 200, 200, 200), SIGNED_OUT_405),
    # Labels are defined by admins (settings); canned replies by every member (shared ones: admins).
    "settings/applications/<int:application_id>/labels/": Row(
        (L, L, L, 403, 403, 200, 404, 200),
        (L, L, L, 403, 403, 200, 404, 200),  # empty form: errors, nothing added
        shows=True,
    ),
    "settings/labels/<int:label_id>/": Row(
        ALL_405,
        (L, L, L, 403, 403, 302, 404, 302),  # empty form: the errors said on the list, nothing changed
    ),
    "settings/labels/<int:label_id>/delete/": Row(ALL_405, (L, L, L, 403, 403, 302, 404, 302)),
    "settings/applications/<int:application_id>/canned-replies/": Row(
        (L, L, L, 200, 404, 200, 404, 200),
        (L, L, L, 200, 404, 200, 404, 200),  # empty form: errors, nothing added
        shows=True,
    ),
    "settings/canned-replies/<int:reply_id>/": Row(
        (L, L, L, 403, 404, 200, 404, 200),  # a shared reply: its admins change it
        (L, L, L, 403, 404, 200, 404, 200),  # empty form: errors, nothing changed
        shows=True,
    ),
    "settings/canned-replies/<int:reply_id>/delete/": Row(SIGNED_OUT_405, (L, L, L, 403, 404, 302, 404, 302)),
    "conversations/<int:conversation_id>/snooze/": Row(
        SIGNED_OUT_405,
        (L, L, L, 422, 404, 422, 404, 422),  # no time given: refused, nothing changed
    ),
    # No conversation in the URL: the ids are checked one by one (another tenant's are "not found").
    "conversations/bulk/": Row(SIGNED_OUT_405, (L, L, L, 422, 422, 422, 422, 422)),  # no ids, no action
    "conversations/<int:conversation_id>/contact/candidates/": Row(
        (L, L, L, 200, 404, 200, 404, 200), SIGNED_OUT_405
    ),
    "conversations/<int:conversation_id>/contact/link/": Row(
        SIGNED_OUT_405,
        (L, L, L, 422, 404, 422, 404, 422),  # to itself: refused
        data=lambda world: {"other": world.contact.pk},
    ),
    "conversations/<int:conversation_id>/contact/unlink/": Row(
        SIGNED_OUT_405,
        (L, L, L, 302, 404, 302, 404, 302),  # not linked: nothing to undo
        data=lambda world: {"contact": world.contact.pk},
    ),
    "conversations/<int:conversation_id>/contact/notes/": Row(
        SIGNED_OUT_405,
        (L, L, L, 302, 404, 302, 404, 302),
        data=lambda world: {"notes": world.contact.notes},  # the same notes
    ),
}

# (pattern, persona, method) -> why: cases where the product answers differently from the table.
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}


# --- the world: Application A with one conversation, Application B, and one user per persona -----


@dataclass
class World:
    app_a: Application
    app_b: Application
    api_key_a: str
    channel: Channel
    conversation: Conversation
    contact: Contact
    inbound: Message
    reply: Message
    conversation_b: Conversation
    users: dict[str, Any]
    integration: dict[str, int] = field(default_factory=dict)  # ids of A's token, webhook, delivery, event
    sessions: dict[str, str] = field(default_factory=dict)  # persona -> session key ("" for none)

    def url_kwargs(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation.pk,
            "message_id": self.reply.pk,
            "application_id": self.app_a.pk,
            "channel_id": self.channel.pk,
            "user_id": self.users["agent_a"].pk,
            "public_id": self.app_a.public_id,
            "uidb64": urlsafe_base64_encode(force_bytes(self.users["agent_a"].pk)),
            "token": "not-a-valid-token",
            "contact_id": self.contact.pk,
            "rest": "no/such/endpoint/",
            "table": "agents",
            **self.integration,
        }


def _application(name: str) -> tuple[Application, str]:
    key = f"hubkey-{uuid.uuid4().hex}"
    app = Application(name=name)
    app.set_api_key(key)
    app.save()
    Channel.objects.create(
        application=app, hub_channel_id=uuid.uuid4(), kind="whatsapp", display_name=f"{name} WhatsApp"
    )
    return app, key


def _member(username: str, app: Application | None, role: str = Membership.Role.AGENT, **flags: Any) -> Any:
    # No password: hashing one costs ~0.5 s and nobody signs in with it (sessions are forced).
    user = get_user_model().objects.create_user(username=username, password=None, **flags)
    if app is not None:
        Membership.objects.create(user=user, application=app, role=role)
    return user


def _conversation(app: Application, markers: tuple[str, ...], author: Any) -> tuple[Conversation, Message]:
    conversation = make_conversation(app, name=markers[1], text=markers[2])
    reply = add_message(
        conversation,
        content={"type": "text", "text": markers[3]},
        direction=Message.Direction.OUTBOUND,
        status=Message.Status.DELIVERED,  # so a retry is refused: nothing is queued
        author=author,
    )
    return conversation, reply


def _integration_objects(app: Application, agent: Any) -> dict[str, int]:
    """An API token of A's agent, an outgoing webhook of A with one delivery, and a Hub delivery to A."""
    token = do_create_token(user=agent, name="matrix", expires_at=None).token
    subscription = WebhookSubscription.objects.create(
        application=app, url="https://93.184.216.34/hook", events=["message.created"],
        description=f"{MARKERS[0]} hook", secret="whsec_matrix",
    )  # fmt: skip
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event="message.created", event_key="matrix", body=f'{{"x": "{MARKERS[2]}"}}',
        status="delivered",
    )  # fmt: skip
    event = WebhookEvent.objects.create(
        application=app,
        event_type="Message",
        body=f'{{"text": "{MARKERS[2]}"}}'.encode(),
        outcome="processed",
    )
    return {
        "token_id": token.pk,
        "subscription_id": subscription.pk,
        "delivery_id": delivery.pk,
        "event_id": event.pk,
    }


def build_world(suffix: str = "") -> World:
    """`suffix` keeps names unique when a second world is made while the first one still exists."""
    app_a, api_key_a = _application(MARKERS[0] + suffix)
    app_b, _ = _application(B_MARKERS[0] + suffix)
    users = {
        "agent_a": _member(f"sec-agent-a{suffix}", app_a),
        "agent_b": _member(f"sec-agent-b{suffix}", app_b),
        "admin_a": _member(f"sec-admin-a{suffix}", app_a, Membership.Role.ADMIN),
        "admin_b": _member(f"sec-admin-b{suffix}", app_b, Membership.Role.ADMIN),
        "superuser": _member(f"sec-root{suffix}", None, is_staff=True, is_superuser=True),
        "deactivated": _member(f"sec-deactivated{suffix}", app_a),
        "revoked": _member(f"sec-revoked{suffix}", app_a),
    }
    conversation, reply = _conversation(app_a, MARKERS, users["agent_a"])
    conversation_b, _ = _conversation(app_b, B_MARKERS, users["agent_b"])
    world = World(
        app_a=app_a,
        app_b=app_b,
        api_key_a=api_key_a,
        channel=conversation.channel,
        conversation=conversation,
        contact=conversation.contact,
        inbound=conversation.last_message,
        reply=reply,
        conversation_b=conversation_b,
        users=users,
    )
    world.integration = _integration_objects(app_a, users["agent_a"])
    world.integration["label_id"] = Label.objects.create(application=app_a, name=f"{MARKERS[0]} label").pk
    world.integration["reply_id"] = CannedReply.objects.create(
        application=app_a, code="matrix", title=f"{MARKERS[0]} reply", body="Hi"
    ).pk
    template = conversation.channel.templates.create(
        hub_template_id=str(uuid.uuid4()),
        name="sec_template",
        language="pt_BR",
        category="UTILITY",
        body="Hi",
    )
    world.integration.update(template_id=template.pk, name="file.pdf")
    world.sessions["anonymous"] = ""
    for persona, user in users.items():
        client = Client()
        client.force_login(user)
        world.sessions[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
    # Signed in first, then deactivated (through save(), as the settings and the admin do) ...
    users["deactivated"].is_active = False
    users["deactivated"].save(update_fields=["is_active"])
    # ... or the session row deleted after signing in (ended elsewhere, or cleared by an operator).
    Session.objects.filter(session_key=world.sessions["revoked"]).delete()
    return world


def destroy_world(world: World) -> None:
    """Undo build_world on the committed test database (the rows may already be gone after a flush)."""
    app_ids = [world.app_a.pk, world.app_b.pk]
    user_ids = [user.pk for user in world.users.values()]
    Session.objects.filter(session_key__in=[key for key in world.sessions.values() if key]).delete()
    Message.objects.filter(conversation__application_id__in=app_ids).delete()
    Conversation.objects.filter(application_id__in=app_ids).delete()
    Contact.objects.filter(channel__application_id__in=app_ids).delete()
    Channel.objects.filter(application_id__in=app_ids).delete()
    Application.objects.filter(pk__in=app_ids).delete()
    get_user_model().objects.filter(pk__in=user_ids).delete()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """One world for the whole matrix, committed once (~50 rows and 7 sign-ins per case would be most of
    the matrix's time). Module-scoped fixtures are set up before a case's transaction opens, and each case
    runs in a transaction rolled back after it, so what a POST wrote is gone before the next case."""
    with django_db_blocker.unblock():
        made = build_world()
    yield made
    with django_db_blocker.unblock():
        destroy_world(made)


@pytest.fixture(scope="module")
def closed_port() -> int:
    """A local port nobody listens on: the Hub calls of the settings pages fail fast and the same way."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def hub_unreachable(settings, closed_port: int) -> None:
    settings.HUB_BASE_URL = f"http://127.0.0.1:{closed_port}"


# --- the URL patterns as they are ---------------------------------------------------------------


def url_patterns(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[str]:
    """Every route of the URLconf, includes flattened, as written (`conversations/<int:…>/`)."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from url_patterns(entry, route)
        else:
            assert isinstance(entry, URLPattern)
            yield route


def _is_admin(route: str) -> bool:
    return route.startswith("admin/")


def url_for(route: str, world: World) -> str:
    kwargs = world.url_kwargs()
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(kwargs[match.group(1)]), route)


def test_the_matrix_covers_every_url_pattern() -> None:
    existing = [route for route in url_patterns() if not _is_admin(route)]
    missing = [route for route in existing if route not in MATRIX]
    stale = [route for route in MATRIX if route not in existing]
    assert not missing, f"URL patterns without expected outcomes in MATRIX: {missing}"
    assert not stale, f"MATRIX rows for URL patterns that no longer exist: {stale}"
    assert len(existing) == len(set(existing)), "two patterns with the same route"


def _cases() -> Iterator[Any]:
    for route, row in MATRIX.items():
        for method, expected in (("GET", row.get), ("POST", row.post)):
            for persona, outcome in zip(PERSONAS, expected, strict=True):
                bug = KNOWN_BUGS.get((route, persona, method))
                marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
                yield pytest.param(
                    route, persona, method, outcome, marks=marks, id=f"{method} /{route} {persona}"
                )


def _body(response: HttpResponse) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


CLIENTS: dict[str, Client] = {}


def client_of(persona: str, world: World) -> Client:
    """One client per persona, its cookies put back to just its session before each request (a case may
    have signed out, or left a flash message or a CSRF cookie behind)."""
    client = CLIENTS.setdefault(persona, Client())
    client.cookies = SimpleCookie()
    if world.sessions[persona]:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[persona]
    return client


@pytest.mark.django_db
@pytest.mark.usefixtures("hub_unreachable")
@pytest.mark.parametrize(("route", "persona", "method", "expected"), list(_cases()))
def test_each_persona_gets_the_expected_answer(
    world: World, route: str, persona: str, method: str, expected: int | str
) -> None:
    url = url_for(route, world)
    client = client_of(persona, world)
    row = MATRIX[route]
    if method == "GET":
        response = client.get(url)
    elif row.json:
        response = client.post(url, json.dumps(row.data(world)), content_type="application/json")
    else:
        response = client.post(url, row.data(world))

    location = response.get("Location", "")
    if expected == LOGIN:
        assert (response.status_code, location.split("?")[0]) == (302, reverse("login")), location
    else:
        assert response.status_code == expected, location or _body(response)[:300]
        if expected == 302:
            assert not location.startswith(reverse("login")), location
    check_what_is_shown(route, persona, method, response, world)


def check_what_is_shown(route: str, persona: str, method: str, response: HttpResponse, world: World) -> None:
    body = _body(response)
    assert world.api_key_a not in body, "A's Hub API key in an answer"
    if persona not in ADMINS_OF_A:
        assert str(world.app_a.public_id) not in body, f"A's webhook URL shown to {persona}"
    shown = [marker for marker in MARKERS if marker in body]
    if persona not in SEES_A:
        assert not shown, f"{persona} was shown Application A's data"
    if not (MATRIX[route].shows and method == "GET" and response.status_code == 200):
        return
    if persona in SEES_A:
        assert shown, "the control: this page shows A's data to those who may see it"
    elif persona in OF_B:
        assert any(marker in body for marker in B_MARKERS), "the control: B's own data is on this page"


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_django_admin_is_for_superusers_only(world: World, persona: str) -> None:
    response = client_of(persona, world).get("/admin/")

    if persona == "superuser":
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


# --- the inbox websocket ---------------------------------------------------------------------------

CLOSED = "closed with 4401 at once"
SEES_A_ROWS = "A's row and thread"
NO_A_ROWS = "its own rows, nothing of A"
PONG = "a bare pong"
QUIET = "nothing, then the bare pong of a ping"

WS_ROUTES = ("ws/inbox/",)
# Columns:               anonymous  deactivated  revoked  agent_a  agent_b  admin_a  admin_b  superuser
WS_MATRIX: dict[str, tuple[str, ...]] = {
    # A `sync` naming A's conversation (and its row) as the open thread and the rows the tab shows.
    "sync": (CLOSED, CLOSED, CLOSED, SEES_A_ROWS, NO_A_ROWS, SEES_A_ROWS, NO_A_ROWS, SEES_A_ROWS),
    "ping": (CLOSED, CLOSED, CLOSED, PONG, PONG, PONG, PONG, PONG),
    # "I am typing" before any sync: announced nowhere, answered with nothing (the ping after it gets the
    # bare pong). Who hears a presence, and that B's agents never do, is tests/teamwork/test_presence.py.
    "presence": (CLOSED, CLOSED, CLOSED, QUIET, QUIET, QUIET, QUIET, QUIET),
}
WS_KNOWN_BUGS: dict[tuple[str, str], str] = {}


def test_the_websocket_matrix_covers_every_route_and_message_type() -> None:
    routes = tuple(str(pattern.pattern) for pattern in websocket_urlpatterns)
    # The consumer dispatches on `kind == "<type>"`: a new branch there needs its row here.
    handled = set(re.findall(r'kind == "(\w+)"', inspect.getsource(InboxConsumer.receive_json)))
    assert routes == WS_ROUTES
    assert handled == set(WS_MATRIX), f"message types without expected outcomes: {handled - set(WS_MATRIX)}"


def socket_headers(session_key: str) -> list[tuple[bytes, bytes]]:
    """What a browser of this site sends when it opens the socket (the cookie only when it has one)."""
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if session_key:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode()))
    return headers


async def open_socket(session_key: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(asgi_application, "/ws/inbox/", headers=socket_headers(session_key))
    connected, _ = await communicator.connect(timeout=10)
    assert connected  # accepted, then closed with our code when there is no session (consumers.py)
    return communicator


def a_sync(world: World) -> dict[str, Any]:
    return sync_message(conversation=world.conversation.pk, rows=[world.conversation.pk])


def assert_nothing_of_a(html: str, world: World) -> None:
    assert not [marker for marker in MARKERS if marker in html], html[:500]
    assert f'id="msg-{world.inbound.pk}"' not in html and f'id="msg-{world.reply.pk}"' not in html
    assert f'<li id="conv-{world.conversation.pk}"' not in html


def _ws_cases() -> Iterator[Any]:
    for kind, outcomes in WS_MATRIX.items():
        for persona, outcome in zip(PERSONAS, outcomes, strict=True):
            bug = WS_KNOWN_BUGS.get((kind, persona))
            marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
            yield pytest.param(kind, persona, outcome, marks=marks, id=f"{kind} {persona}")


@pytest.mark.django_db(transaction=True)  # the socket reads the database from another thread
@pytest.mark.parametrize(("kind", "persona", "expected"), list(_ws_cases()))
def test_websocket_outcome(kind: str, persona: str, expected: str) -> None:
    # Its own world: the matrix's one may still exist (names then differ), and is flushed after this test.
    world = build_world(suffix="-ws")
    message = a_sync(world) if kind == "sync" else {"type": kind, "state": "typing"}

    async def scenario() -> dict[str, Any]:
        inbox = await open_socket(world.sessions[persona])
        await inbox.send_json_to(message)
        if kind == "presence":
            await inbox.send_json_to({"type": "ping"})
        output = await inbox.receive_output(timeout=10)
        await inbox.disconnect()
        return output

    output = async_to_sync(scenario)()

    if expected == CLOSED:
        assert output == {"type": "websocket.close", "code": 4401}
        return
    html = output["text"]
    if expected in (PONG, QUIET):
        assert html == "<!--live-->"  # before any sync: a bare pong
    elif expected == SEES_A_ROWS:
        assert f'<li id="conv-{world.conversation.pk}"' in html
        assert f'id="msg-{world.inbound.pk}"' in html and MARKERS[2] in html
    else:
        assert expected == NO_A_ROWS
        assert_nothing_of_a(html, world)
        assert f'<li id="conv-{world.conversation_b.pk}"' in html  # the control: its own list is there


async def _until_closed(inbox: WebsocketCommunicator) -> tuple[list[str], int]:
    """Frames received before the socket closed, and its close code."""
    frames: list[str] = []
    while True:
        output = await inbox.receive_output(timeout=10)
        if output["type"] == "websocket.close":
            return frames, output["code"]
        frames.append(output["text"])


@pytest.mark.django_db(transaction=True)
def test_an_open_socket_of_a_user_deactivated_meanwhile_is_closed_and_shows_nothing_more() -> None:
    world = build_world(suffix="-ws")
    agent = world.users["agent_a"]

    def deactivate() -> None:
        agent.is_active = False
        agent.save(update_fields=["is_active"])

    async def scenario() -> tuple[str, list[str], int]:
        inbox = await open_socket(world.sessions["agent_a"])
        await inbox.send_json_to(a_sync(world))
        before = (await inbox.receive_output(timeout=10))["text"]
        await database_sync_to_async(deactivate)()
        await inbox.send_json_to(a_sync(world))  # if the access event has not closed it already
        frames, code = await _until_closed(inbox)
        return before, frames, code

    before, frames, code = async_to_sync(scenario)()

    assert MARKERS[2] in before  # the control: the same socket saw A until then
    assert code == 4401
    assert_nothing_of_a("".join(frames), world)


@pytest.mark.django_db(transaction=True)
def test_an_open_socket_whose_session_row_is_deleted_is_closed_and_cannot_come_back() -> None:
    world = build_world(suffix="-ws")
    key = world.sessions["agent_a"]

    async def scenario() -> tuple[str, list[str], int, dict[str, Any]]:
        inbox = await open_socket(key)
        await inbox.send_json_to(a_sync(world))
        before = (await inbox.receive_output(timeout=10))["text"]
        # No signal (nobody signed out through Django): the next `sync` finds the session gone.
        await database_sync_to_async(Session.objects.filter(session_key=key).delete)()
        await inbox.send_json_to(a_sync(world))
        frames, code = await _until_closed(inbox)
        again = await open_socket(key)  # the page reconnects with the cookie it holds
        refused = await again.receive_output(timeout=10)
        return before, frames, code, refused

    before, frames, code, refused = async_to_sync(scenario)()

    assert MARKERS[2] in before
    # 4001: "your session key changed" (the page reconnects with its cookie), then 4401 on reconnecting.
    assert code == 4001
    assert_nothing_of_a("".join(frames), world)
    assert refused == {"type": "websocket.close", "code": 4401}


@pytest.mark.django_db(transaction=True)
def test_an_open_socket_loses_an_application_the_moment_access_to_it_is_revoked() -> None:
    """Live events are checked against Application ids held in memory: the access-change signal is what
    keeps them current, and a `sync` for the lost Application's conversation then shows nothing of it."""
    world = build_world(suffix="-ws")
    agent = world.users["agent_a"]
    Membership.objects.create(user=agent, application=world.app_b, role=Membership.Role.AGENT)

    async def scenario() -> tuple[str, list[str]]:
        inbox = await open_socket(world.sessions["agent_a"])
        await inbox.send_json_to(a_sync(world))
        before = (await inbox.receive_output(timeout=10))["text"]
        await database_sync_to_async(Membership.objects.filter(user=agent, application=world.app_a).delete)()
        rebuilt = (await inbox.receive_output(timeout=10))["text"]  # the list, rebuilt without A
        await inbox.send_json_to({**a_sync(world), "gen": 2})
        after = (await inbox.receive_output(timeout=10))["text"]
        await inbox.disconnect()
        return before, [rebuilt, after]

    before, frames = async_to_sync(scenario)()

    assert MARKERS[2] in before
    for html in frames:
        assert_nothing_of_a(html, world)
        assert f'<li id="conv-{world.conversation_b.pk}"' in html  # B's row stays
