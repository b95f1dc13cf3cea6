"""The real `manage.py run_worker`, in its own process: killed with SIGKILL mid-batch and restarted, it
loses no reply; stopped with SIGTERM, it finishes the replies in hand and exits cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from conversations.actions.replies import do_send_reply, due_replies
from conversations.models import Message, SendAttempt
from conversations.worker import DEFAULT_THREADS
from tests.sending.conftest import key, make_conversation, settled
from tests.support import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    """The URL of the test database this process uses, for the worker process to open the same one."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def worker_process(sandbox_url: str, interval: float = 0.05) -> Iterator[subprocess.Popen]:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "HUB_BASE_URL": sandbox_url,
        "HUB_CONNECT_TIMEOUT": "1",
        "HUB_READ_TIMEOUT": "0.5",
        "HUB_SEND_LEASE_SECONDS": "2",
        "HUB_SEND_BACKOFF_BASE": "0.05",
        "HUB_SEND_BACKOFF_MAX": "0.2",
        "WORKER_SWEEP_INTERVAL": "0.5",
        "LOG_LEVEL": "WARNING",
        # Its "started"/"stopped" lines must reach the file as they are written, not when a buffer fills.
        "PYTHONUNBUFFERED": "1",
    }
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "worker.log"
        with log_path.open("ab") as log:  # append: reading it meanwhile never moves the child's offset
            proc = subprocess.Popen(
                [
                    sys.executable,
                    str(Path(settings.BASE_DIR) / "manage.py"),
                    "run_worker",
                    "--interval",
                    str(interval),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        proc.log_path = log_path  # read by _output()
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            print(_output(proc)[-4000:])  # shown by pytest when the test fails


def _output(proc: subprocess.Popen) -> str:
    return proc.log_path.read_bytes().decode(errors="replace")


def _sent_count(ids: list[int]) -> int:
    return Message.objects.filter(pk__in=ids).exclude(status="pending").count()


def test_a_worker_killed_mid_batch_and_restarted_loses_no_reply(sandbox_a, app_a, agent_a):
    # Slow enough, and enough replies for several turns of DEFAULT_THREADS calls, that the kill lands in
    # the middle of the batch.
    sandbox_a.configure(latencyMs=150)
    count = 10 * DEFAULT_THREADS
    conversation = make_conversation(app_a, "telegram")
    ids = [
        do_send_reply(
            conversation=conversation, author=agent_a, content={"text": f"batch {n}"}, idempotency_key=key()
        ).pk
        for n in range(count)
    ]

    with worker_process(sandbox_a.url) as first:
        wait_for(lambda: _sent_count(ids) >= 5, timeout=30, what="the worker to send a few replies")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    left = len(ids) - _sent_count(ids)
    assert left > 0, "the kill came too late to test anything"

    with worker_process(sandbox_a.url) as second:
        wait_for(settled(*ids), timeout=60, what="every reply sent after the restart")
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=15) == 0  # graceful stop

    assert Counter(Message.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"sent": count}
    accepted = Counter(send["content"]["text"] for send in sandbox_a.accepted_sends())
    assert set(accepted) == {f"batch {n}" for n in range(count)}  # nothing lost
    twice = {text for text, times in accepted.items() if times > 1}
    # Only replies whose Hub call was in flight when the worker died went out twice (the documented
    # at-least-once window: at most one per sender thread), and each one's history says so.
    lost = SendAttempt.objects.filter(message_id__in=ids, error_code="worker_lost")
    assert lost.count() <= DEFAULT_THREADS
    assert twice <= {attempt.message.content["text"] for attempt in lost}


def test_a_restarted_server_sends_the_replies_stored_while_it_was_down(sandbox_a, app_a, agent_a):
    conversation = make_conversation(app_a, "sms")
    ids = [
        do_send_reply(
            conversation=conversation, author=agent_a, content={"text": f"queued {n}"}, idempotency_key=key()
        ).pk
        for n in range(5)
    ]
    # One has been due for a long time (stored long before any worker came back).
    Message.objects.filter(pk=ids[0]).update(
        next_attempt_at=Message.objects.get(pk=ids[0]).created_at.replace(year=2000)
    )

    with worker_process(sandbox_a.url) as worker:
        wait_for(settled(*ids), timeout=30, what="the queued replies sent")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0

    assert Counter(send["content"]["text"] for send in sandbox_a.accepted_sends()) == {
        f"queued {n}": 1 for n in range(5)
    }


def test_sigterm_with_calls_in_flight_stores_their_answers_and_takes_no_new_reply(sandbox_a, app_a, agent_a):
    sandbox_a.configure(latencyMs=400)  # calls long enough for the signal to land while they are out
    conversation = make_conversation(app_a, "telegram")
    ids = [
        do_send_reply(
            conversation=conversation, author=agent_a, content={"text": f"term {n}"}, idempotency_key=key()
        ).pk
        for n in range(3 * DEFAULT_THREADS)
    ]

    with worker_process(sandbox_a.url) as worker:
        wait_for(
            lambda: SendAttempt.objects.filter(outcome="in_flight").exists(),
            timeout=30,
            what="calls in flight",
        )
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0, _output(worker)

    # Every call that was out came back and is stored; no reply is left leased; the rest wait, due.
    assert not SendAttempt.objects.filter(outcome="in_flight").exists()
    assert not Message.objects.filter(pk__in=ids, locked_until__isnull=False).exists()
    sent = Message.objects.filter(pk__in=ids, status="sent").count()
    assert 1 <= sent < len(ids)
    assert due_replies().count() == len(ids) - sent
    assert len(sandbox_a.accepted_sends()) == sent  # each sent once


def test_an_idle_worker_stops_cleanly_whenever_the_signal_lands(sandbox_a):
    # An idle worker polls in a transaction that looks for the next due reply; a SIGTERM that landed
    # inside it used to break the connection mid-transaction (exit 1, a traceback). Polling without a
    # pause keeps the worker in that transaction nearly all the time.
    for delay in (0.0, 0.013, 0.029, 0.041, 0.057, 0.071):
        with worker_process(sandbox_a.url, interval=0) as worker:
            wait_for(lambda w=worker: "started" in _output(w), timeout=30, what="the worker started")
            time.sleep(delay)
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=15) == 0, _output(worker)
            assert "Traceback" not in _output(worker)
            assert "stopped." in _output(worker)


def test_ctrl_c_then_the_launchers_sigterm_is_one_clean_stop(sandbox_a):
    # Ctrl-C under `make run` reaches the whole process group, and run_embedded forwards a SIGTERM right
    # after: the second signal is the same stop, not an order to exit mid-transaction.
    with worker_process(sandbox_a.url, interval=0) as worker:
        wait_for(lambda: "started" in _output(worker), timeout=30, what="the worker started")
        worker.send_signal(signal.SIGINT)
        worker.send_signal(signal.SIGTERM)  # as close behind as the launcher's
        assert worker.wait(timeout=15) == 0, _output(worker)
        assert "stopped." in _output(worker) and "Traceback" not in _output(worker)
