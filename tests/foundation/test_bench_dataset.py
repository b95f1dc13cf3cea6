"""The benchmarks' data set (bench/dataset.py) is written in SQL, beside the models: when a migration
adds a required column, `make bench` would fail only when somebody runs it. Here it is built small on
PostgreSQL and its agent's pages show what it made."""

import pytest
from django.db import connection

from bench.dataset import PASSWORD, build
from conversations.models import Conversation, Message
from tests.conftest import sign_in

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="generate_series: PostgreSQL only"),
    pytest.mark.django_db(transaction=True),  # the data set ends with VACUUM, outside a transaction
]


def test_the_bench_data_set_builds_and_its_pages_show_it(client):
    ids = build(50, 600, long_thread_messages=100)

    assert Conversation.objects.count() == 50
    assert Message.objects.count() == 600
    assert Message.objects.filter(conversation_id=ids["long_thread"]).count() >= 100
    assert sign_in(client, "bench", PASSWORD)
    inbox = client.get("/")
    assert inbox.status_code == 200
    assert inbox.content.count(b'class="conv-row') == 30  # a full first page of the agent's 45
    thread = client.get(f"/conversations/{ids['long_thread']}/")
    assert thread.status_code == 200
    assert b"mensagem longa 100" in thread.content  # the long thread's newest message
