"""The large data set of the page benchmarks, made inside PostgreSQL with `generate_series`.

    .venv/bin/python -m bench.dataset [--conversations 100000] [--messages 1000000]

Two Applications (the bench agent is a member of the first only, as in a real team: the inbox is
scoped to a list of Applications), one WhatsApp channel each. The first holds `--conversations`
conversations, a third of them resolved, with activity spread over weeks; one of them, "the long
thread", holds 50,000 messages; the other messages spread evenly. A tenth of the conversations belong to
the second Application. Then ANALYZE, so the planner sees the real sizes. About a minute on this machine.
"""

from __future__ import annotations

import argparse
import time
import uuid

from bench.common import production_env, recreate_database, setup_django

DB_NAME = "hubdash_bench_pages"
LONG_THREAD_MESSAGES = 50_000
PASSWORD = "bench-pages-password"


def build(
    conversations: int, messages: int, long_thread_messages: int = LONG_THREAD_MESSAGES
) -> dict[str, int]:
    """Seed the current database; returns the ids the benchmarks need."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from channels_app.models import Application, Channel, Membership

    apps, channels = [], []
    for name in ("Bench A", "Bench B"):
        app = Application(name=name)
        app.set_api_key("bench-api-key-000000")
        app.save()
        apps.append(app)
        channels.append(
            Channel.objects.create(
                application=app, hub_channel_id=uuid.uuid4(), kind="whatsapp", display_name=f"{name} WhatsApp"
            )
        )
    agent = get_user_model().objects.create_user("bench", password=PASSWORD, first_name="Bench")
    Membership.objects.create(user=agent, application=apps[0], role=Membership.Role.AGENT)
    a, b = apps[0].pk, apps[1].pk
    ca, cb = channels[0].pk, channels[1].pk
    spread = messages - long_thread_messages
    with connection.cursor() as cur:
        # Every tenth contact and conversation belongs to Application B.
        cur.execute(
            """
            INSERT INTO conversations_contact (channel_id, external_id, display_name, notes, created_at)
            SELECT CASE WHEN g %% 10 = 0 THEN %(cb)s ELSE %(ca)s END,
                   '5521' || lpad(g::text, 9, '0'), 'Cliente ' || g, '', now()
            FROM generate_series(1, %(n)s) AS g
            """,
            {"ca": ca, "cb": cb, "n": conversations},
        )
        cur.execute(
            """
            INSERT INTO conversations_conversation
                (application_id, channel_id, contact_id, status, last_activity_at, last_inbound_at,
                 unread_count, created_at)
            SELECT CASE WHEN c.channel_id = %(cb)s THEN %(b)s ELSE %(a)s END, c.channel_id, c.id,
                   CASE WHEN c.id %% 3 = 0 THEN 'resolved' ELSE 'open' END,
                   now() - (c.id * interval '17 seconds'), now() - (c.id * interval '17 seconds'),
                   c.id %% 3, now()
            FROM conversations_contact c
            """,
            {"a": a, "b": b, "cb": cb},
        )
        cur.execute("SELECT min(id), max(id) FROM conversations_conversation")
        first, last = cur.fetchone()
        long_thread = first + 1  # an open conversation of Application A
        count = last - first + 1
        message_columns = """
            (conversation_id, channel_id, direction, content, preview, status, error_code, error_message,
             attempt_count, permanent_failure, reactions, quote, template, sent_at, created_at)
        """
        cur.execute(
            f"""
            INSERT INTO conversations_message {message_columns}
            SELECT v.id, v.channel_id,
                   CASE WHEN g %% 4 = 0 THEN 'out' ELSE 'in' END,
                   jsonb_build_object('type', 'text', 'text', 'pedido ref' || g || ' entrega prazo frete'),
                   'pedido ref' || g || ' entrega prazo frete',
                   CASE WHEN g %% 4 = 0 THEN 'delivered' ELSE 'received' END, '', '', 0, false, jsonb_build_object(), jsonb_build_object(), jsonb_build_object(),
                   now() - (g * interval '1 second'), now() - (g * interval '1 second')
            FROM generate_series(1, %(spread)s) AS g
            JOIN conversations_conversation v ON v.id = %(first)s + (g %% %(count)s)
            """,
            {"spread": spread, "first": first, "count": count},
        )
        cur.execute(
            f"""
            INSERT INTO conversations_message {message_columns}
            SELECT %(conv)s, %(ca)s, CASE WHEN g %% 2 = 0 THEN 'out' ELSE 'in' END,
                   jsonb_build_object('type', 'text', 'text', 'mensagem longa ' || g),
                   'mensagem longa ' || g,
                   CASE WHEN g %% 2 = 0 THEN 'read' ELSE 'received' END, '', '', 0, false, jsonb_build_object(), jsonb_build_object(), jsonb_build_object(),
                   now() - ((%(n)s - g) * interval '1 second'), now() - ((%(n)s - g) * interval '1 second')
            FROM generate_series(1, %(n)s) AS g
            """,
            {"conv": long_thread, "ca": ca, "n": long_thread_messages},
        )
        cur.execute(
            """
            UPDATE conversations_conversation c SET last_message_id = m.last_id
            FROM (SELECT conversation_id, max(id) AS last_id FROM conversations_message GROUP BY 1) m
            WHERE m.conversation_id = c.id
            """
        )
        cur.execute(
            "UPDATE conversations_conversation SET last_activity_at = now() WHERE id = %s", [long_thread]
        )
        # Django runs in autocommit here, where VACUUM is allowed: the visibility map it sets is what lets
        # the thread's id scans be index-only.
        cur.execute("VACUUM ANALYZE")
    return {"agent": agent.pk, "application": a, "long_thread": long_thread, "conversations": count}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    args = parser.parse_args()
    recreate_database(DB_NAME)
    setup_django(production_env(DB_NAME))
    started = time.monotonic()
    ids = build(args.conversations, args.messages)
    print(f"seeded {ids} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
