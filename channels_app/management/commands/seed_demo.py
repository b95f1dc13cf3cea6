"""Demo data for `make run`: an admin, an agent, and an Application with one channel of each kind.

The Application is registered in the Hub sandbox too (the real Hub has no such API) and its webhooks
are connected, so the sandbox's customers start writing in.
"""

import os
import uuid

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from channels_app.actions.webhooks import do_connect_webhooks
from channels_app.hub.capabilities import ChannelKind
from channels_app.hub.client import sandbox_control
from channels_app.models import Application, Channel, Membership

DEMO_API_KEY = "demo-hub-key-7d4e4b8a9c21"
# Fixed UUIDs, so the sandbox and our database agree across restarts.
DEMO_CHANNELS = {
    ChannelKind.WHATSAPP: "3f2c9a10-7d4e-4b8a-9c21-0e5d6f7a8b90",
    ChannelKind.INSTAGRAM: "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    ChannelKind.MESSENGER: "6b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e",
    ChannelKind.TELEGRAM: "7c3d4e5f-6a7b-4c8d-8e9f-1a2b3c4d5e6f",
    ChannelKind.SMS: "8d4e5f6a-7b8c-4d9e-9f0a-2b3c4d5e6f7a",
    ChannelKind.WEBCHATT: "9e5f6a7b-8c9d-4e0f-8a1b-3c4d5e6f7a8b",
}


class Command(BaseCommand):
    help = "Create the demo users and Application, register them in the Hub sandbox, connect webhooks."

    def add_arguments(self, parser):
        parser.add_argument("--no-sandbox", action="store_true", help="Only write the database.")
        parser.add_argument("--customers-rate", type=float, default=None, help="Sandbox customer messages/s.")

    def handle(self, *args, no_sandbox: bool = False, customers_rate: float | None = None, **options):
        username = os.environ.get("DEMO_ADMIN_USERNAME", "admin")
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "hubdash-demo")
        agent_password = os.environ.get("DEMO_AGENT_PASSWORD", "hubdash-agent")
        User = get_user_model()
        with transaction.atomic():
            admin, created = User.objects.get_or_create(
                username=username,
                defaults={"is_staff": True, "is_superuser": True, "first_name": "Demo admin"},
            )
            if created:
                admin.set_password(password)
                admin.save(update_fields=["password"])
            agent, agent_created = User.objects.get_or_create(
                username="agent", defaults={"first_name": "Dana"}
            )
            if agent_created:
                agent.set_password(agent_password)
                agent.save(update_fields=["password"])
            app = Application.objects.filter(name="Demo Shop").first()
            if app is None:
                app = Application(name="Demo Shop")
                app.set_api_key(DEMO_API_KEY)
                app.save()
            for kind, channel_id in DEMO_CHANNELS.items():
                Channel.objects.get_or_create(
                    hub_channel_id=uuid.UUID(channel_id),
                    defaults={"application": app, "kind": kind.value, "display_name": f"Demo {kind.label}"},
                )
            Membership.objects.get_or_create(
                user=admin, application=app, defaults={"role": Membership.Role.ADMIN}
            )
            Membership.objects.get_or_create(
                user=agent, application=app, defaults={"role": Membership.Role.AGENT}
            )

        if not no_sandbox:
            sandbox_control(
                "POST",
                "/_sandbox/applications",
                {
                    "name": app.name,
                    "apiKey": app.hub_api_key,
                    "channels": [
                        {"id": str(c.hub_channel_id), "kind": c.kind, "name": c.display_name}
                        for c in app.channels.all()
                    ],
                },
            )
            hooks = do_connect_webhooks(application=app)
            for hook in hooks:
                state = "verified" if hook.is_verified else "NOT verified"
                self.stdout.write(f"Hub webhook {hook.event_type}: {hook.endpoint} ({state})")
            if customers_rate is not None:
                sandbox_control("PUT", "/_sandbox/settings", {"customersRate": customers_rate})

        note = "" if created else " (set when first created)"
        self.stdout.write(self.style.SUCCESS(f"Demo admin: {username} / {password}{note}"))
        self.stdout.write(f"Demo agent: agent / {agent_password}")
