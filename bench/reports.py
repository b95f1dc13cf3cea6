"""The reports over 90 days of 1,000,000 messages and 100,000 conversations, on PostgreSQL.

    BENCH_DB_SUFFIX=_me .venv/bin/python -m bench.reports [--reuse] [--runs 7] [--no-explain]

Seeds with the page benchmark's data set (bench/dataset.py: 100k conversations, 1M messages), then
makes it a reporting one: the messages' times stretched over 90 days, ten agents who wrote the replies
(1 in 50 failed, with one of four error codes), and the conversations' cycles as the actions would have
kept them (the first customer message, the first reply after it, a resolution for the resolved ones,
a reopened cycle for every fourth conversation, a 30-minute target), and the worker's quarter-hour
message counts rolled up to now. Then VACUUM ANALYZE.

Prints EXPLAIN ANALYZE of every query of each report (as the code runs it), then loads each report
page through Django's full request path in this process (middleware, view, template), signed in as a
lead of the first Application, over the whole 90 days, `--runs` times, and prints the median and the
worst time per page. The target (issue 17): each report in <= 300 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

from bench.common import explain_cases, production_env, recreate_database, setup_django
from bench.dataset import build

DB_NAME = "hubdash_bench_reports"
AGENTS = 10
STRETCH = 8  # the data set's messages span ~11 days: eight times that is ~90
ERRORS = ("131047", "131026", "470", "1006")


def _reporting_data() -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from channels_app.models import Application, Membership
    from conversations.actions.rollup import do_roll_up_message_volume

    app = Application.objects.get(name="Bench A")
    users = get_user_model()
    lead = users.objects.create_user("lead", password="bench-lead-password", first_name="Lead")
    Membership.objects.create(user=lead, application=app, role=Membership.Role.ADMIN)
    agents = []
    for n in range(AGENTS):
        agent = users.objects.create_user(
            f"agent{n}", password="bench-agent-password", first_name=f"Agent {n}"
        )
        Membership.objects.create(user=agent, application=app, role=Membership.Role.AGENT)
        agents.append(agent.pk)
    first_agent = agents[0]
    with connection.cursor() as cur:
        cur.execute(
            """
            UPDATE conversations_message SET
                created_at = now() - (now() - created_at) * %(stretch)s,
                sent_at = now() - (now() - sent_at) * %(stretch)s,
                author_id = CASE WHEN direction = 'out' THEN %(agent)s + id %% %(agents)s END,
                status = CASE WHEN direction = 'out' AND id %% 50 = 0 THEN 'failed' ELSE status END,
                error_code = CASE WHEN direction = 'out' AND id %% 50 = 0
                                  THEN (%(errors)s::text[])[1 + id %% 4] ELSE '' END
            """,
            {"stretch": STRETCH, "agent": first_agent, "agents": AGENTS, "errors": list(ERRORS)},
        )
        # One cycle per conversation from its messages: the first customer message, the first reply
        # after it, and for a resolved conversation its last message plus ten minutes.
        cur.execute(
            """
            INSERT INTO conversations_conversationcycle
                (application_id, channel_id, conversation_id, opened_at, reopened, customer_at,
                 first_response_due_at, first_response_at, first_responder_id, resolved_at, resolved_by_id)
            SELECT c.id_app, c.channel_id, c.id, f.asked, false, f.asked, f.asked + interval '30 minutes',
                   r.answered, CASE WHEN r.answered IS NOT NULL THEN %(agent)s + c.id %% %(agents)s END,
                   CASE WHEN c.status = 'resolved' THEN f.last + interval '10 minutes' END,
                   CASE WHEN c.status = 'resolved' THEN %(agent)s + c.id %% %(agents)s END
            FROM (SELECT id, application_id AS id_app, channel_id, status FROM conversations_conversation) c
            JOIN (SELECT conversation_id, min(created_at) FILTER (WHERE direction = 'in') AS asked,
                         max(created_at) AS last
                  FROM conversations_message GROUP BY 1) f ON f.conversation_id = c.id
            LEFT JOIN LATERAL (
                SELECT min(m.created_at) AS answered FROM conversations_message m
                WHERE m.conversation_id = c.id AND m.direction = 'out' AND m.created_at > f.asked
            ) r ON true
            WHERE f.asked IS NOT NULL
            """,
            {"agent": first_agent, "agents": AGENTS},
        )
        # Every fourth conversation was resolved and reopened once more: a second, later cycle.
        cur.execute(
            """
            INSERT INTO conversations_conversationcycle
                (application_id, channel_id, conversation_id, opened_at, reopened, customer_at,
                 first_response_due_at, first_response_at, first_responder_id, resolved_at, resolved_by_id)
            SELECT application_id, channel_id, conversation_id, opened_at + interval '2 days', true,
                   customer_at + interval '2 days', first_response_due_at + interval '2 days',
                   first_response_at + interval '2 days 5 minutes', first_responder_id,
                   resolved_at + interval '3 days', resolved_by_id
            FROM conversations_conversationcycle WHERE conversation_id % 4 = 0
            """
        )
    # What the worker's rollup thread does from its first pass on (conversations/actions/rollup.py).
    started = time.monotonic()
    while (mark := do_roll_up_message_volume()) is not None and mark < timezone.now() - timedelta(minutes=20):
        pass
    print(f"rollup caught up to {mark} in {time.monotonic() - started:.0f} s", flush=True)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reuse", action="store_true", help="keep the data set a previous run built")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-explain", action="store_true", help="skip the EXPLAIN ANALYZE of the queries")
    args = parser.parse_args()
    if not args.reuse:
        recreate_database(DB_NAME)
    setup_django({**production_env(DB_NAME), "DJANGO_SETTINGS_MODULE": "hubdash.settings"})
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from conversations.models import ConversationCycle, Message
    from reports import figures
    from reports.scope import build_scope

    if not args.reuse or not ConversationCycle.objects.exists():
        started = time.monotonic()
        build(100_000, 1_000_000)
        _reporting_data()
        print(f"data set built in {time.monotonic() - started:.0f} s", flush=True)
    lead = get_user_model().objects.get(username="lead")
    today = timezone.localdate()
    first = today - timedelta(days=89)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*), min(created_at), max(created_at) FROM conversations_message")
        print("messages, first, last:", cur.fetchone())
    print(
        "cycles:",
        ConversationCycle.objects.count(),
        "outbound:",
        Message.objects.filter(direction="out").count(),
    )

    scope = build_scope(
        user=lead, application_id=None, channel_id=None, agent_id=None, date_from=first, date_to=today
    )
    if not args.no_explain:
        explain_cases(
            {
                "overview: summary counts": lambda: figures.summary(scope, figures.message_counts(scope)),
                "overview: timings": lambda: figures.timings(scope),
                "overview: first-response target": lambda: figures.service_level(scope),
                "volume: per hour of the viewer's zone": lambda: figures.volume(scope),
                "delivery by channel": lambda: figures.delivery(scope),
                "agents": lambda: figures.agents(scope, figures.timings(scope)),
            }
        )

    client = Client(HTTP_HOST="localhost")  # ALLOWED_HOSTS of the production configuration
    client.force_login(lead)
    query = f"?date_from={first.isoformat()}&date_to={today.isoformat()}"
    pages = {
        "overview": "/reports/",
        "volume": "/reports/volume/",
        "delivery": "/reports/delivery/",
        "agents": "/reports/agents/",
        "list: first-response target breached": "/reports/conversations/?figure=sla_breached&",
        "CSV: agents": "/reports/export/agents.csv",
    }
    print(f"\n90 days ({first} to {today}), {args.runs} runs after one warm-up, in-process (no network)")
    print("\n| report | median ms | worst ms |\n|---|---|---|")
    for label, path in pages.items():
        url = path + (query[1:] if path.endswith("&") else query)
        timings = []
        for run in range(args.runs + 1):
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
            if run:
                timings.append(elapsed)
        print(f"| {label} | {statistics.median(timings):.0f} | {max(timings):.0f} |", flush=True)


if __name__ == "__main__":
    main()
