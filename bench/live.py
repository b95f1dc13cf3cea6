"""The live inbox at a team's scale, against its anchor in the same run.

    .venv/bin/python -m bench.live [--sockets 50] [--rate 20] [--seconds 20] [--runs 3] [--server daphne]

Production configuration (PostgreSQL, Redis, DEBUG=false), one server process. Per run, alternating:
- **Hubdash**: `--sockets` agents, each signed in with its own session, open the inbox websocket and
  sync; signed `Message` webhooks are posted at `--rate` per second for `--seconds`. Each message's
  text carries a token; a frame *arrives* for an agent when its text holds the token (the row's
  preview). Latency = arrival − the moment its POST started.
- **anchor** (bench/anchor.py): the same sockets and POSTs on a minimal Channels app (POST →
  `group_send` → every socket), same server, same Redis.
- **webhook alone** / **anchor alone**: the same POSTs to Hubdash, and to the anchor, with no socket
  open: each one's webhook p99 without the frames' work, so the webhook's own ratio (with sockets over
  alone) has the anchor's ratio beside it, from the same runs.

A frame not arrived 5 s after the last POST counts as lost. Prints per-run figures and the medians;
the ratios are Hubdash / anchor from the same runs. Loopback only; stops everything it started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import (
    ROOT,
    Profiler,
    clear_channel_layer,
    cpu_seconds,
    free_port,
    production_env,
    recreate_database,
    seed_signed_application,
    setup_django,
    stop_server,
    wait_for_port,
)

DB_NAME = "hubdash_bench_live"
ENV = production_env(DB_NAME)
GRACE_SECONDS = 5.0
# Every socket connects and syncs at once before the first webhook: each first sync draws that agent's
# inbox, so 200 of them queue on the server for a while (the time is printed: "synced in").
READY_TIMEOUT = 300.0
TOKEN = re.compile(r"bench-(\d+)-")


def _seed(agents: int) -> tuple[object, object, str, list[str]]:
    """An Application with a WhatsApp channel and a signing secret, and `agents` signed-in members."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from channels_app.models import Membership

    app, channel, secret = seed_signed_application()
    cookies = []
    for n in range(agents):
        user = get_user_model().objects.create_user(username=f"agent{n}", password=uuid.uuid4().hex)
        Membership.objects.create(user=user, application=app, role=Membership.Role.AGENT)
        client = Client()
        client.force_login(user)
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}")
    return app, channel, secret, cookies


def _server(kind: str, target: str, port: int) -> subprocess.Popen:
    if kind == "uvicorn":
        cmd = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--no-access-log", "--log-level", "warning", target]
    else:
        cmd = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), target]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env={**os.environ, **ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # daphne logs every request; an unread pipe would stall it
        start_new_session=True,
    )
    wait_for_port(port)
    return proc


@dataclass
class Result:
    label: str
    expected: int
    latencies: list[float] = field(default_factory=list)
    post_latencies: list[float] = field(default_factory=list)
    non_2xx: int = 0
    stop_seconds: float = float("nan")
    # The server's CPU (user + system) from the first POST until every frame arrived, per webhook: what
    # one event costs the process, whatever else the machine runs.
    cpu_ms: float = float("nan")
    # From the first connect until every socket had its sync's answer.
    ready_seconds: float = float("nan")

    @property
    def lost(self) -> int:
        return self.expected - len(self.latencies)

    def pct(self, values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.label:<14} frames {len(self.latencies)}/{self.expected} (lost {self.lost}),"
            f" p50 {self.pct(self.latencies, 0.5):.0f} ms, p99 {self.pct(self.latencies, 0.99):.0f} ms;"
            f" POST p50 {self.pct(self.post_latencies, 0.5):.0f} ms,"
            f" p99 {self.pct(self.post_latencies, 0.99):.0f} ms, non-2xx {self.non_2xx};"
            f" server CPU {self.cpu_ms:.2f} ms/webhook; SIGTERM to exit {self.stop_seconds:.1f} s;"
            f" sockets synced in {self.ready_seconds:.1f} s"
        )


def _bodies(kind: str, count: int, *, channel_id: str, secret: str, run: str) -> list[tuple[bytes, dict]]:
    from channels_app.hub.signatures import sign

    out = []
    for i in range(count):
        text = f"bench-{i}- Olá, pedido {run}/{i}: quando chega?"
        if kind == "anchor":
            out.append((text.encode(), {}))
            continue
        event = {
            "eventType": "Message",
            "channelId": channel_id,
            "messageId": f"wamid.bench.{uuid.uuid4().hex}",
            "from": f"55219{(i % 200):08d}",
            "timestamp": int(time.time()),
            "channel": "whatsapp",
            "content": {"type": "text", "text": text},
        }
        body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
        out.append((body, {"Content-Type": "application/json", "X-Hub-Signature": sign(body, secret)}))
    return out


def _post_paced(url: str, bodies: list[tuple[bytes, dict]], rate: float, sent: list[float], result: Result):
    import requests

    session = requests.Session()
    start = time.monotonic()
    for i, (body, headers) in enumerate(bodies):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sent[i] = time.monotonic()
        response = session.post(url, data=body, headers=headers, timeout=30)
        result.post_latencies.append(time.monotonic() - sent[i])
        if response.status_code >= 300:
            result.non_2xx += 1


async def _measure(
    *, label: str, port: int, post_url: str, ws_path: str, cookies: list[str], hubdash: bool,
    bodies: list[tuple[bytes, dict]], rate: float, server: subprocess.Popen, profile: Path | None = None,
) -> Result:  # fmt: skip
    import websockets

    result = Result(label=label, expected=len(cookies) * len(bodies))
    sent = [0.0] * len(bodies)
    arrived: list[set[int]] = [set() for _ in cookies]
    origin = f"http://127.0.0.1:{port}"

    async def client(n: int, cookie: str, ready: asyncio.Event, stop: asyncio.Event) -> None:
        async with websockets.connect(
            f"ws://127.0.0.1:{port}{ws_path}",
            additional_headers={"Cookie": cookie},
            origin=origin,
            max_size=None,
            ping_interval=None,
        ) as ws:
            if hubdash:
                sync = {"type": "sync", "gen": 1, "scope": "all", "since": None, "conversation": None}
                await ws.send(json.dumps({**sync, "after": 0, "rows": [], "filters": ""}))
                await ws.recv()  # the sync's answer: the tab is live from here
            ready.set()
            while not stop.is_set():
                try:
                    text = await asyncio.wait_for(ws.recv(), 0.5)
                except TimeoutError:
                    continue
                now = time.monotonic()
                for token in TOKEN.findall(text if isinstance(text, str) else text.decode()):
                    i = int(token)
                    if i not in arrived[n] and sent[i]:
                        arrived[n].add(i)
                        result.latencies.append(now - sent[i])

    stop = asyncio.Event()
    readies = [asyncio.Event() for _ in cookies]
    connecting = time.monotonic()
    tasks = [asyncio.create_task(client(n, c, readies[n], stop)) for n, c in enumerate(cookies)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), READY_TIMEOUT)
    result.ready_seconds = time.monotonic() - connecting
    profiler = Profiler(server.pid, profile) if profile else None
    cpu = cpu_seconds(server.pid)
    poster = threading.Thread(target=_post_paced, args=(post_url, bodies, rate, sent, result))
    poster.start()
    while poster.is_alive():
        await asyncio.sleep(0.1)
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline and len(result.latencies) < result.expected:
        await asyncio.sleep(0.1)
    result.cpu_ms = (cpu_seconds(server.pid) - cpu) * 1000 / len(bodies)
    if profiler:
        profiler.stop()
    # Stopped with every socket still open, as a deploy would: it must exit within 10 s.
    result.stop_seconds = await asyncio.to_thread(stop_server, server)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sockets", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20, help="webhooks per second")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="py-spy (--gil) each server of the first run while it is measured: DIR/<label>.txt, raw stacks",
    )
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)

    recreate_database(DB_NAME)
    setup_django(ENV)
    app, channel, secret, cookies = _seed(args.sockets)
    count = int(args.rate * args.seconds)
    port = free_port()
    hub_url = f"http://127.0.0.1:{port}/hub/webhook/{app.public_id}/"
    labels = ("hubdash", "anchor", "webhook alone", "anchor alone")
    rows: dict[str, list[Result]] = {label: [] for label in labels}
    print(
        f"{args.sockets} sockets, {args.rate:g} webhooks/s for {args.seconds:g} s, {args.server},"
        f" {args.runs} runs; load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    for run in range(1, args.runs + 1):
        for label in labels:
            kind = "anchor" if label.startswith("anchor") else "hubdash"
            target = "bench.anchor:application" if kind == "anchor" else "hubdash.asgi:application"
            clear_channel_layer(ENV)  # what the last server left there, its sockets' groups, is not ours
            server = _server(args.server, target, port)
            try:
                post_url = f"http://127.0.0.1:{port}/" if kind == "anchor" else hub_url
                # Warm-up of every server before it is measured: its imports and its pool's connections
                # (a cold process's first POST would be the p99 of a run with no socket to warm it), and
                # the first time, the 200 customers' conversations.
                first = run == 1 and label == "hubdash"
                warm = _bodies(
                    kind, 200 if first else 20, channel_id=str(channel.hub_channel_id), secret=secret, run="w"
                )
                _post_paced(post_url, warm, 200, [0.0] * len(warm), Result("warm", 0))
                bodies = _bodies(
                    kind, count, channel_id=str(channel.hub_channel_id), secret=secret, run=str(run)
                )
                result = asyncio.run(
                    _measure(
                        label=label,
                        port=port,
                        post_url=post_url,
                        ws_path="/" if kind == "anchor" else "/ws/inbox/",
                        cookies=[] if label.endswith("alone") else cookies,
                        hubdash=kind == "hubdash",
                        bodies=bodies,
                        rate=args.rate,
                        server=server,
                        profile=args.profile / f"{label.replace(' ', '-')}.txt"
                        if args.profile and run == 1
                        else None,
                    )
                )
            finally:
                stop_server(server)
            rows[label].append(result)
            print(f"run {run}: {result.line()}", flush=True)

    def median(label: str, q: float, post: bool = False) -> float:
        return statistics.median(r.pct(r.post_latencies if post else r.latencies, q) for r in rows[label])

    lost = {label: sum(r.lost for r in results) for label, results in rows.items()}
    h99, a99 = median("hubdash", 0.99), median("anchor", 0.99)
    print()
    print(f"frames lost: Hubdash {lost['hubdash']}, anchor {lost['anchor']}")
    print(f"frame p50: Hubdash {median('hubdash', 0.5):.0f} ms, anchor {median('anchor', 0.5):.0f} ms")
    print(
        f"frame p99: Hubdash {h99:.0f} ms, anchor {a99:.0f} ms, ratio {h99 / a99:.2f}x (target <= 1.5x, <= 150 ms)"
    )
    w_sockets, w_alone = median("hubdash", 0.99, post=True), median("webhook alone", 0.99, post=True)
    a_sockets, a_alone = median("anchor", 0.99, post=True), median("anchor alone", 0.99, post=True)
    print(
        f"webhook POST p50: with {args.sockets} sockets {median('hubdash', 0.5, post=True):.0f} ms,"
        f" with none {median('webhook alone', 0.5, post=True):.0f} ms;"
        f" anchor {median('anchor', 0.5, post=True):.0f} / {median('anchor alone', 0.5, post=True):.0f} ms"
    )
    print(
        f"webhook POST p99: with {args.sockets} sockets {w_sockets:.0f} ms, with none {w_alone:.0f} ms,"
        f" ratio {w_sockets / w_alone:.2f}x (target <= 1.5x); anchor {a_sockets:.0f} / {a_alone:.0f} ms,"
        f" ratio {a_sockets / a_alone:.2f}x"
    )
    cpu = {label: statistics.median(r.cpu_ms for r in results) for label, results in rows.items()}
    per_frame = (cpu["hubdash"] - cpu["webhook alone"]) / max(1, args.sockets)
    anchor_per_frame = (cpu["anchor"] - cpu["anchor alone"]) / max(1, args.sockets)
    print(
        f"server CPU per webhook: Hubdash {cpu['hubdash']:.2f} ms with sockets, {cpu['webhook alone']:.2f} ms"
        f" without (so {per_frame * 1000:.0f} us per frame); anchor {cpu['anchor']:.2f} ms,"
        f" {cpu['anchor alone']:.2f} ms without ({anchor_per_frame * 1000:.0f} us per frame)"
    )
    worst_stop = max(r.stop_seconds for results in rows.values() for r in results)
    print(f"slowest SIGTERM to exit, sockets open: {worst_stop:.1f} s (target <= 10 s)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
