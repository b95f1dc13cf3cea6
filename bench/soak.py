"""The soak: Hubdash's production topology under load and faults, then a reconciliation of every event.

    .venv/bin/python -m bench.soak [--seconds 90] [--rate 25] [--reply-rate 5] [--tabs 4] [--daphnes 2]
                                   [--workers 2] [--fault-rounds 1]

`make soak` runs the short form (CI, about 3 minutes): 90 s of load at 25 customer messages a second,
half the 50 of the target, so that it fits CI's time on a 2-core machine. The long form is
`--seconds 1800 --rate 50 --fault-rounds 6`: half an hour at 50 a second, every fault six times.

Everything runs on loopback and is started here, and stopped at the end: a PostgreSQL database of its
own (`hubdash_soak`), its own redis-server (so it can restart it), `--daphnes` daphne processes serving
Hubdash in the production configuration (DEBUG=false), `--workers` `manage.py run_worker` processes,
and the Hub sandbox as a process of its own, connected to Hubdash the way an admin does it (Settings →
Connect webhooks: signed webhooks, verified by the handshake).

Load, for `--seconds`: the sandbox's customers write `--rate` messages a second on every channel kind
(20 % of webhook deliveries duplicated, 10 % held back behind the next event of their thread); agents
reply through the composer's endpoint at `--reply-rate` a second, the sandbox failing 10 % of sends
(500s, 429s, provider refusals); `--tabs` agents keep the inbox open over the websocket, each with a
conversation open, reconnecting and resyncing like the page does.

Faults, spread over the load (`--fault-rounds` times each): Redis killed and restarted; the daphne
process the Hub delivers to killed (SIGKILL) and restarted, then `manage.py recover_webhooks` as
the README's operations section says to run after an outage; a worker killed (SIGKILL) and
restarted; every PostgreSQL connection of the soak's database cut (`pg_terminate_backend`), then
`recover_webhooks` again.

Then the load stops, the system drains (replies settle; the Hub delivers what it still holds;
`recover_webhooks` runs until the Hub has no delivery left that we did not take), every tab resyncs
once more, and the table compares the Hub's side with Hubdash's. Exit status 1 on any mismatch.
Logs of every process: var/soak/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from bench.common import (
    ROOT,
    free_port,
    production_env,
    recreate_database,
    seed_signed_application,
    setup_django,
    stop_server,
    wait_for_port,
)
from bench.soak_clients import Agent, InboxTab, Reply, SignedIn, new_reply, sign_in

DB_NAME = "hubdash_soak"
KINDS = ("whatsapp", "instagram", "messenger", "telegram", "sms", "webchatt")
LOGS = ROOT / "var" / "soak"
RUN = uuid.uuid4().hex[:6]

# The fault mode of the load (hubsandbox/README.md): shares of webhook deliveries and of sends.
SANDBOX_FAULTS = {
    "webhookDuplicateRate": 0.2,
    "webhookReorderRate": 0.1,
    "webhookReorderHoldMs": 2000,
    # 10 % of sends fail: 3 % rate limited, ~5 % internal errors (both transient: retried), ~2 %
    # refused by the provider (permanent: the reply fails with the Hub's reason).
    "sendRateLimitRate": 0.03,
    "sendErrorRate": 0.05,
    "sendRefusalRate": 0.021,
}


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# --- Processes ---------------------------------------------------------------------------------------


@dataclass
class Process:
    """A child process with its output in var/soak/<name>.log, restartable with the same command."""

    name: str
    args: list[str]
    env: dict[str, str]
    port: int | None = None
    proc: subprocess.Popen | None = None
    starts: int = 0

    @property
    def log_path(self) -> Path:
        return LOGS / f"{self.name}.log"

    def start(self) -> float:
        """Start, and wait until it listens; returns the seconds that took."""
        started = time.monotonic()
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        if self.port is not None:
            try:
                wait_for_port(self.port, timeout=120)
            except SystemExit:
                raise SystemExit(f"{self.name} did not listen on {self.port}:\n{self.tail()}") from None
        return time.monotonic() - started

    def kill(self) -> None:
        """SIGKILL to its process group: a crash, nothing is cleaned up."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if self.port is not None:
            deadline = time.monotonic() + 10
            while _listening(self.port) and time.monotonic() < deadline:
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            stop_server(self.proc)

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Topology:
    redis: Process
    sandbox: Process
    daphnes: list[Process]
    workers: list[Process]
    env: dict[str, str]

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox.port}"

    def all(self) -> list[Process]:
        return [*self.workers, *self.daphnes, self.sandbox, self.redis]


def build_topology(args: argparse.Namespace) -> Topology:
    redis_port, sandbox_port = free_port(), free_port()
    daphne_ports = [free_port() for _ in range(args.daphnes)]
    env = {
        **os.environ,
        **production_env(DB_NAME),
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CHANNEL_LAYER_PREFIX": "soak",
        "HUB_BASE_URL": f"http://127.0.0.1:{sandbox_port}",
        # The Hub delivers to the first daphne process (one URL, as behind a proxy's address).
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{daphne_ports[0]}",
        # (daphnes + workers) × pool must fit PostgreSQL's max_connections beside other users.
        "DB_POOL_MAX_SIZE": "8",
        # A killed worker's reply is taken over after its lease (the floor: connect + read timeout
        # + 2 s) and the next sweep, instead of the default 43 s + 30 s: the soak waits for it.
        "HUB_SEND_LEASE_SECONDS": "15",
        "WORKER_SWEEP_INTERVAL": "5",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "hubdash.settings",
    }
    redis = Process(
        "redis",
        [
            "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        env,
        port=redis_port,
    )
    # The sandbox is someone else's system: its own process, plain stdlib, no Django.
    sandbox = Process(
        "sandbox",
        [sys.executable, "-m", "hubsandbox", "--port", str(sandbox_port), "--seed", str(args.seed)],
        env,
        port=sandbox_port,
    )
    daphnes = [
        Process(
            f"daphne-{n + 1}",
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "hubdash.asgi:application"],
            env,
            port=port,
        )
        for n, port in enumerate(daphne_ports)
    ]
    workers = [
        Process(f"worker-{n + 1}", [sys.executable, "manage.py", "run_worker", "--interval", "0.2"], env)
        for n in range(args.workers)
    ]
    return Topology(redis, sandbox, daphnes, workers, env)


def sandbox_call(topology: Topology, method: str, path: str, body: Any = None) -> Any:
    answer = requests.request(method, topology.sandbox_url + path, json=body, timeout=60)
    answer.raise_for_status()
    return answer.json()


def recover_webhooks(topology: Topology, *, within: float = 120) -> str:
    """`manage.py recover_webhooks`: what an operator runs after an outage (README, Operations), again
    while it fails (the database or the Hub still coming back), as the operator would. Its last line."""
    deadline = time.monotonic() + within
    runs = 0
    while True:
        runs += 1
        done = subprocess.run(
            [sys.executable, "manage.py", "recover_webhooks"],
            cwd=ROOT,
            env=topology.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        output = (done.stdout + done.stderr).strip()
        with (LOGS / "recover_webhooks.log").open("a") as out:
            out.write(f"--- {time.strftime('%H:%M:%S')} exit {done.returncode}\n{output}\n")
        last = output.splitlines()[-1] if output else "(no output)"
        if done.returncode == 0 or time.monotonic() > deadline:
            return last if runs == 1 else f"{last} (run {runs} times: the earlier runs failed)"
        time.sleep(1)


def db_retry(read: Any, attempts: int = 5) -> Any:
    """A read of the soak's own process, which the PostgreSQL cut disconnects too."""
    from django.db import DatabaseError, connection

    for attempt in range(attempts):
        try:
            return read()
        except DatabaseError:
            connection.close()
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)
    return None


# --- Setup -------------------------------------------------------------------------------------------


@dataclass
class Scene:
    """What the setup made: the Application, its conversations, and the people."""

    application: Any
    conversations: list[int]
    conversation_kinds: dict[int, str]
    agents: list[tuple[str, str]]  # (username, password)


def seed(topology: Topology, tabs: int, agents: int) -> Scene:
    from django.contrib.auth import get_user_model

    from channels_app.actions.webhooks import do_connect_webhooks
    from channels_app.models import Channel, Membership

    # bench/common's signed Application gives the WhatsApp channel; the other kinds are added here. Its
    # made-up signing secret signs nothing: the sandbox signs with the secret Connect webhooks stores.
    app, whatsapp, _ = seed_signed_application()
    app.name = "Soak"
    app.save(update_fields=["name"])
    channels = [whatsapp] + [
        Channel.objects.create(
            application=app, hub_channel_id=uuid.uuid4(), kind=kind, display_name=f"Soak {kind}"
        )
        for kind in KINDS[1:]
    ]
    sandbox_call(
        topology,
        "POST",
        "/_sandbox/applications",
        {
            "name": app.name,
            "apiKey": app.hub_api_key,
            "channels": [
                {"kind": c.kind, "id": str(c.hub_channel_id), "name": c.display_name} for c in channels
            ],
        },
    )
    people = []
    for n in range(max(tabs, agents)):
        username, password = f"agent{n}", uuid.uuid4().hex
        user = get_user_model().objects.create_user(
            username=username, password=password, first_name=f"Agent {n}"
        )
        Membership.objects.create(user=user, application=app, role=Membership.Role.AGENT)
        people.append((username, password))
    hooks = do_connect_webhooks(application=app)
    if not all(hook.is_verified for hook in hooks):
        raise SystemExit("the sandbox could not verify daphne's webhook URL")

    # Every customer writes once first: all conversations exist and every service window is open.
    for channel in channels:
        customers = sandbox_call(topology, "GET", f"/_sandbox/customers?channelId={channel.hub_channel_id}")
        for customer in customers["data"]:
            sandbox_call(
                topology,
                "POST",
                "/_sandbox/customers/messages",
                {
                    "channelId": str(channel.hub_channel_id),
                    "from": customer["from"],
                    "content": {"type": "text", "text": f"Olá, sou {customer['name']}"},
                },
            )
    from conversations.models import Conversation

    rows = list(Conversation.objects.filter(application=app).values_list("pk", "channel__kind"))
    return Scene(app, [pk for pk, _ in rows], dict(rows), people)


# --- Load --------------------------------------------------------------------------------------------


@dataclass
class ReplyLoad:
    """Agents replying at `rate` a second: a pacer hands out replies, one thread per agent sends them."""

    agents: list[Agent]
    conversations: list[int]
    rate: float
    replies: list[Reply] = field(default_factory=list)
    _queue: queue.Queue[Reply | None] = field(default_factory=queue.Queue)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._pace, name="reply-pacer", daemon=True)]
        self._threads += [
            threading.Thread(target=self._send, args=(agent,), name=f"agent-{agent.name}", daemon=True)
            for agent in self.agents
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._threads[0].join()
        for _ in self.agents:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._threads[1:]:
            thread.join(max(0.1, deadline - time.monotonic()))

    def _pace(self) -> None:
        rng = random.Random(RUN)
        due = time.monotonic()
        number = 0
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            number += 1
            reply = new_reply(number, rng.choice(self.conversations), RUN)
            self.replies.append(reply)
            self._queue.put(reply)
            due += 1 / self.rate

    def _send(self, agent: Agent) -> None:
        while True:
            reply = self._queue.get()
            if reply is None:
                return
            agent.reply(reply)


class Tabs:
    """The inbox tabs, on an event loop of their own."""

    def __init__(self, tabs: list[InboxTab]) -> None:
        self.tabs = tabs
        self.loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, name="tabs", daemon=True)
        self._tasks: list[asyncio.Future] = []

    def start(self) -> None:
        self._thread.start()

        async def begin() -> None:
            self._stop = asyncio.Event()
            for tab in self.tabs:
                assert self._stop is not None
                self._tasks.append(asyncio.ensure_future(tab.run(self._stop)))

        asyncio.run_coroutine_threadsafe(begin(), self.loop).result()

    def final_sync(self, timeout: float) -> list[bool]:
        async def all_tabs() -> list[bool]:
            return list(await asyncio.gather(*(tab.final_sync(timeout) for tab in self.tabs)))

        return asyncio.run_coroutine_threadsafe(all_tabs(), self.loop).result()

    def stop(self) -> None:
        async def end() -> None:
            assert self._stop is not None
            self._stop.set()
            await asyncio.wait(self._tasks, timeout=10)

        asyncio.run_coroutine_threadsafe(end(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


# --- Faults ------------------------------------------------------------------------------------------


@dataclass
class FaultRecord:
    at: float  # seconds into the load
    name: str
    detail: str
    recovery: str = ""  # what recover_webhooks said after it
    wall: float = field(default_factory=time.time)


class Faults:
    """The four faults, each `rounds` times, spread evenly over the load.

    After an outage the operator runs `recover_webhooks` (README, Operations): here in a thread of its
    own, like a second terminal, so the next fault keeps its time however long the Hub takes to re-send.
    """

    def __init__(self, topology: Topology, seconds: float, rounds: int) -> None:
        self.topology = topology
        self.records: list[FaultRecord] = []
        self.errors: list[str] = []
        self.started = 0.0
        self.worker_kills: list[datetime] = []
        plan = ("redis", "daphne", "worker", "postgres")
        step = seconds / (rounds * len(plan) + 1)
        self.schedule = [
            (step * (r * len(plan) + i + 1), name) for r in range(rounds) for i, name in enumerate(plan)
        ]
        self._thread = threading.Thread(target=self._run, name="faults", daemon=True)
        self._recoveries: list[threading.Thread] = []

    def start(self) -> None:
        self.started = time.monotonic()
        self._thread.start()

    @property
    def done(self) -> bool:
        return not self._thread.is_alive() and not any(t.is_alive() for t in self._recoveries)

    def _run(self) -> None:
        for at, name in self.schedule:
            time.sleep(max(0.0, self.started + at - time.monotonic()))
            record = FaultRecord(round(time.monotonic() - self.started, 1), name, "")
            self.records.append(record)
            try:
                record.detail = getattr(self, f"_{name}")(record)
            except Exception as exc:  # a fault that could not be done is a failed soak, said at the end
                record.detail = f"FAILED: {type(exc).__name__}: {exc}"
                self.errors.append(f"{name}: {record.detail}")
            log(f"fault at {record.at:.0f} s: {name}: {record.detail}")

    def _recover_after(self, record: FaultRecord) -> None:
        def run() -> None:
            started = time.monotonic()
            report = recover_webhooks(self.topology)
            record.recovery = f"recover_webhooks ({time.monotonic() - started:.0f} s): {report}"
            log(f"after the {record.name} fault, recover_webhooks: {report}")

        thread = threading.Thread(target=run, name=f"recover-{record.name}", daemon=True)
        self._recoveries.append(thread)
        thread.start()

    def _redis(self, record: FaultRecord) -> str:
        redis = self.topology.redis
        started = time.monotonic()
        redis.kill()
        redis.start()
        return f"redis-server killed and restarted, empty, in {time.monotonic() - started:.1f} s"

    def _daphne(self, record: FaultRecord) -> str:
        # The process the Hub delivers to: deliveries fail while it is down, and recovery brings them in.
        daphne = self.topology.daphnes[0]
        started = time.monotonic()
        daphne.kill()
        daphne.start()
        self._recover_after(record)
        return f"{daphne.name} SIGKILL, back after {time.monotonic() - started:.1f} s"

    def _worker(self, record: FaultRecord) -> str:
        worker = self.topology.workers[0]
        worker.kill()
        self.worker_kills.append(datetime.now(UTC))
        worker.start()
        return f"{worker.name} SIGKILL and restarted"

    def _postgres(self, record: FaultRecord) -> str:
        import psycopg
        from django.db import connection

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            cut = conn.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                [connection.settings_dict["NAME"]],
            ).fetchone()
        # Deliveries answered 500/503 meanwhile are in the Hub's failed logs: the same recovery.
        self._recover_after(record)
        return f"{cut[0] if cut else 0} connections of {connection.settings_dict['NAME']} terminated"


# --- The run -----------------------------------------------------------------------------------------


def drain(topology: Topology, timeout: float) -> list[str]:
    """After the load: wait until replies settle and the Hub has delivered, recovering what failed.

    `timeout` is the limit without progress: while each recovery run brings events in, it keeps going
    (a long run can leave more failed logs than one run of `recover_webhooks` reads).
    """
    from conversations.models import Message

    notes: list[str] = []
    started = time.monotonic()
    deadline = started + timeout
    recoveries = 0
    best = None
    while time.monotonic() < deadline:
        pending = db_retry(lambda: Message.objects.filter(direction="out", status="pending").count())
        ledger = sandbox_call(topology, "GET", "/_sandbox/events")
        unaccepted = sum(1 for e in ledger["data"] if e["accepted"] == 0)
        if pending == 0 and ledger["pending"] == 0 and unaccepted == 0:
            notes.append(
                f"drained in {time.monotonic() - started:.0f} s, with {recoveries} more recover_webhooks run(s)"
            )
            return notes
        if best is None or unaccepted < best:
            best, deadline = unaccepted, time.monotonic() + timeout
        if ledger["pending"] == 0 and unaccepted:
            recoveries += 1
            log(
                f"draining: {unaccepted} event(s) not taken yet: recover_webhooks: {recover_webhooks(topology)}"
            )
        time.sleep(1)
    notes.append(
        f"NOT DRAINED: {pending} repl(ies) pending, {ledger['pending']} Hub deliveries still to make,"
        f" {unaccepted} event(s) never taken, no progress for {timeout:.0f} s"
    )
    return notes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=90, help="seconds of load (default 90)")
    parser.add_argument("--rate", type=float, default=25, help="customer messages per second (default 25)")
    parser.add_argument("--reply-rate", type=float, default=5, help="agent replies per second (default 5)")
    parser.add_argument("--tabs", type=int, default=4, help="agents with the inbox open (default 4)")
    parser.add_argument("--agents", type=int, default=3, help="agents replying (default 3)")
    parser.add_argument("--daphnes", type=int, default=2, help="daphne processes (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="run_worker processes (default 2)")
    parser.add_argument("--fault-rounds", type=int, default=1, help="times each fault happens (default 1)")
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=180,
        help="how long the drain may make no progress (default 180)",
    )
    parser.add_argument("--seed", type=int, default=11, help="the sandbox's seed")
    parser.add_argument("--json", type=Path, default=LOGS / "result.json", help="where the figures go")
    args = parser.parse_args()
    if args.workers < 1 or args.daphnes < 1:
        parser.error("at least one daphne process and one worker")

    shutil.rmtree(LOGS, ignore_errors=True)
    LOGS.mkdir(parents=True)
    began = time.monotonic()
    load_before = os.getloadavg()
    topology = build_topology(args)
    started: list[Process] = []
    tabs: Tabs | None = None
    try:
        log(
            f"soak {RUN}: PostgreSQL database {DB_NAME}, redis :{topology.redis.port}, sandbox :{topology.sandbox.port}"
        )
        for process in (topology.redis, topology.sandbox):
            process.start()
            started.append(process)
        recreate_database(DB_NAME)
        setup_django(topology.env)
        for process in [*topology.daphnes, *topology.workers]:
            process.start()
            started.append(process)
        scene = seed(topology, args.tabs, args.agents)
        log(f"{len(scene.conversations)} conversations; signing in {len(scene.agents)} agents")

        urls = [f"http://127.0.0.1:{d.port}" for d in topology.daphnes]
        sessions: list[SignedIn] = [
            sign_in(urls[n % len(urls)], username, password)
            for n, (username, password) in enumerate(scene.agents)
        ]
        by_kind: dict[str, list[int]] = {}
        for pk, kind in sorted(scene.conversation_kinds.items()):
            by_kind.setdefault(kind, []).append(pk)
        tabs = Tabs(
            [
                InboxTab(
                    name=f"tab-{n + 1} ({scene.agents[n][0]}, :{topology.daphnes[n % len(urls)].port})",
                    port=topology.daphnes[n % len(urls)].port or 0,
                    cookie=sessions[n].cookie,
                    conversation_id=by_kind[KINDS[n % len(KINDS)]][0],
                    journal=LOGS / f"tab-{n + 1}.jsonl",
                )
                for n in range(args.tabs)
            ]
        )
        tabs.start()
        deadline = time.monotonic() + 60
        while not all(tab.synced_gen for tab in tabs.tabs):
            if time.monotonic() > deadline:
                raise SystemExit("the inbox tabs did not sync within 60 s")
            time.sleep(0.1)

        agents = [
            Agent(name=scene.agents[n][0], base_url=urls[n % len(urls)], signed_in=sessions[n])
            for n in range(args.agents)
        ]
        replies = ReplyLoad(agents, scene.conversations, args.reply_rate)
        faults = Faults(topology, args.seconds, args.fault_rounds)
        sandbox_call(topology, "PUT", "/_sandbox/settings", {**SANDBOX_FAULTS, "customersRate": args.rate})
        load_started = time.monotonic()
        log(f"load: {args.rate:g} messages/s, {args.reply_rate:g} replies/s for {args.seconds:g} s")
        replies.start()
        faults.start()
        # The load lasts until every fault and its recovery are over, however slow the machine.
        while time.monotonic() - load_started < args.seconds or not faults.done:
            time.sleep(0.5)
        sandbox_call(topology, "PUT", "/_sandbox/settings", {"customersRate": 0})
        load_seconds = time.monotonic() - load_started
        for tab in tabs.tabs:
            tab.stats.end_of_load(tab.connected)
        replies.stop(timeout=120)
        log(f"load over after {load_seconds:.0f} s: {len(replies.replies)} replies posted; draining")
        notes = drain(topology, args.drain_seconds)
        synced = tabs.final_sync(timeout=120)

        from bench.soak_report import Figures, reconcile

        figures = Figures(
            run=RUN,
            args=vars(args) | {"json": str(args.json)},
            load_seconds=load_seconds,
            load_before=load_before,
            faults=faults.records,
            fault_errors=faults.errors,
            notes=notes,
            final_syncs=synced,
            worker_kills=faults.worker_kills,
            lease_seconds=15.05,
        )
        ok = reconcile(
            figures,
            application=scene.application,
            ledger=sandbox_call(topology, "GET", "/_sandbox/events")["data"],
            sends=sandbox_call(topology, "GET", "/_sandbox/sends")["data"],
            send_requests=sandbox_call(topology, "GET", "/_sandbox/requests/count"),
            replies=replies.replies,
            tabs=tabs.tabs,
            wall_seconds=time.monotonic() - began,
        )
        args.json.write_text(json.dumps(figures.summary, indent=2, default=str))
    finally:
        if tabs is not None:
            tabs.stop()
        for process in reversed(started):
            process.stop()
    log(f"wall time {time.monotonic() - began:.0f} s; load average now {os.getloadavg()[0]:.2f}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
