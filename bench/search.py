"""Inbox search on PostgreSQL, with and without the trigram indexes (migration conversations 0002).

    .venv/bin/python -m bench.search [--conversations 20000] [--messages 200000] [--repeat 15]

Seeds one Application with that many conversations and messages (customers' texts of 12 common words and
a unique reference), then times the inbox's first page (`inbox_page`, what the page and the websocket
run) for four searches: a rare word in a message, a contact's name, a contact's number, and a term
nothing matches. Medians per search, first with the indexes, then with them dropped, in one run.
"""

from __future__ import annotations

import argparse
import importlib
import random
import statistics
import time
import uuid

from bench.common import production_env, recreate_database, setup_django

DB_NAME = "hubdash_bench_search"
WORDS = [
    "entrega",
    "pedido",
    "pagamento",
    "boleto",
    "troca",
    "devolucao",
    "prazo",
    "cartao",
    "frete",
    "nota",
    "cupom",
    "produto",
    "tamanho",
    "cor",
]


def seed(conversations: int, messages: int) -> dict[str, str]:
    from django.utils import timezone

    from channels_app.models import Application, Channel
    from conversations.models import Contact, Conversation, Message

    app = Application(name="Search bench")
    app.set_api_key("bench-api-key-000000")
    app.save()
    channel = Channel.objects.create(
        application=app, hub_channel_id=uuid.uuid4(), kind="whatsapp", display_name="WhatsApp"
    )
    now = timezone.now()
    contacts = Contact.objects.bulk_create(
        Contact(channel=channel, external_id=f"5521{n:09d}", display_name=f"Cliente {n}")
        for n in range(conversations)
    )
    threads = Conversation.objects.bulk_create(
        Conversation(application=app, channel=channel, contact=c, last_activity_at=now) for c in contacts
    )
    rng = random.Random(7)
    batch: list[Message] = []
    for n in range(messages):
        text = " ".join(rng.choice(WORDS) for _ in range(12)) + f" ref{n}"
        batch.append(
            Message(
                conversation=threads[n % conversations],
                channel=channel,
                direction="in",
                content={"type": "text", "text": text},
                preview=text,
                status="received",
                sent_at=now,
            )
        )
        if len(batch) == 5000:
            Message.objects.bulk_create(batch)
            batch = []
    Message.objects.bulk_create(batch)
    middle = conversations // 2
    return {
        "a word in one message": f"ref{messages - 7}",
        "a contact's name": f"Cliente {middle}",
        "a contact's number": f"5521{middle:09d}",
        "nothing matches": "zzzz",
    }


def time_searches(searches: dict[str, str], repeat: int) -> dict[str, float]:
    from django.contrib.auth import get_user_model

    from conversations.selectors.inbox import InboxFilters, inbox_page

    user = get_user_model().objects.get(username="bench")
    medians = {}
    for label, term in searches.items():
        filters = InboxFilters(q=term)
        inbox_page(user=user, filters=filters)  # warm the caches once
        timings = []
        for _ in range(repeat):
            start = time.perf_counter()
            inbox_page(user=user, filters=filters)
            timings.append((time.perf_counter() - start) * 1000)
        medians[label] = statistics.median(timings)
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    recreate_database(DB_NAME)
    setup_django(production_env(DB_NAME))
    from django.contrib.auth import get_user_model
    from django.db import connection

    indexes = importlib.import_module("conversations.migrations.0002_search_indexes")

    print(f"seeding {args.conversations} conversations, {args.messages} messages …", flush=True)
    searches = seed(args.conversations, args.messages)
    get_user_model().objects.create_superuser("bench", "bench@example.org", "bench")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    indexed = time_searches(searches, args.repeat)
    with connection.cursor() as cursor:
        for name in indexes.INDEXES:
            cursor.execute(f"DROP INDEX {name}")
        cursor.execute("ANALYZE")
    scanned = time_searches(searches, args.repeat)

    print(
        f"\n{args.conversations} conversations, {args.messages} messages; median ms of {args.repeat} (first page)"
    )
    print("| search | with trigram indexes | without | ratio |\n|---|---|---|---|")
    for label in searches:
        print(
            f"| {label} | {indexed[label]:.1f} | {scanned[label]:.1f} | {scanned[label] / indexed[label]:.1f}× |"
        )


if __name__ == "__main__":
    main()
