"""PostgreSQL's CPU per stored message, on today's schema and on an older one, in the same run.

    .venv/bin/python -m bench.write_path [--events 3000] [--runs 5] [--against 0014]

What a schema change (an index dropped, added or made partial) costs or saves where it is paid: in the
database, per message a customer sends. One process, no server: signed `Message` events from 500
customers go through `do_ingest_webhook`, the webhook's own action, one by one (each its own
transaction, as over HTTP); the figure is the CPU of the database backend that served them (from
/proc: other load on the machine moves it far less than time), per event. Each run migrates the
`conversations` app to the latest migration or to `--against`, alternately and in alternating order,
so both schemas see the same machine and the same growing tables. Medians per schema, the ratio, and
each pair's. Its own database (`hubdash_bench_write`, with `BENCH_DB_SUFFIX`), dropped and created at
the start; the channel layer's Redis keys of the bench are cleared before and after.
"""

from __future__ import annotations

import argparse
import statistics

from bench.common import (
    clear_channel_layer,
    cpu_seconds,
    production_env,
    recreate_database,
    seed_signed_application,
    setup_django,
    signed_message_events,
)

DB_NAME = "hubdash_bench_write"
ENV = {**production_env(DB_NAME), "DJANGO_SETTINGS_MODULE": "bench.settings"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=3000, help="events per run")
    parser.add_argument("--runs", type=int, default=5, help="runs per schema")
    parser.add_argument("--contacts", type=int, default=500, help="distinct customers the events come from")
    parser.add_argument("--against", default="0014", help="the older `conversations` migration to compare")
    args = parser.parse_args()
    recreate_database(DB_NAME)
    clear_channel_layer(ENV)
    setup_django(ENV)
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    from conversations.actions.inbound import do_ingest_webhook

    latest = max(
        name for app, name in MigrationLoader(connection).graph.leaf_nodes() if app == "conversations"
    )
    app, channel, secret = seed_signed_application()

    def run(count: int) -> float:
        """CPU ms of the database backend per event, for `count` new events."""
        signed = signed_message_events(
            channel_id=str(channel.hub_channel_id),
            secret=secret,
            count=count,
            contacts=args.contacts,
            tag="write",
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (backend,) = cursor.fetchone()
        before = cpu_seconds(backend)
        for signature, body in signed:
            headers = {"x-hub-signature": signature, "content-type": "application/json"}
            result = do_ingest_webhook(public_id=app.public_id, body=body.encode(), headers=headers)
            if result.status != 200:
                raise SystemExit(f"the webhook answered {result.status}: {result.body}")
        return (cpu_seconds(backend) - before) * 1000 / count

    def migrate(name: str) -> None:
        call_command("migrate", "conversations", name, verbosity=0)
        connection.close()  # a new backend: nothing of the other schema's plans or caches

    run(max(args.contacts, 600))  # the customers' contacts and conversations, then every event is a message
    schemas = {latest: "today", args.against: "older"}
    found: dict[str, list[float]] = {name: [] for name in schemas}
    try:
        for number in range(args.runs):
            order = list(schemas) if number % 2 == 0 else list(reversed(schemas))
            for name in order:
                migrate(name)
                run(200)  # warm: the backend's catalogue and plans for this schema
                found[name].append(run(args.events))
                print(
                    f"run {number + 1}: {schemas[name]} schema ({name}): PostgreSQL CPU "
                    f"{found[name][-1]:.3f} ms per stored message",
                    flush=True,
                )
    finally:
        migrate(latest)
        clear_channel_layer(ENV)
    today, older = (statistics.median(found[name]) for name in schemas)
    pairs = [new / old for new, old in zip(found[latest], found[args.against], strict=True)]
    print(
        f"\nPostgreSQL CPU per stored message, median of {args.runs} runs of {args.events} events:"
        f" today's schema ({latest}) {today:.3f} ms, {args.against} {older:.3f} ms: {today / older:.2f}x"
        f" (each run's ratio: {', '.join(f'{p:.2f}' for p in pairs)})"
    )


if __name__ == "__main__":
    main()
