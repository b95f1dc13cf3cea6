"""Two daphne processes behind nginx (docs/scaling/nginx.conf, Debian's package): agents connected to
different processes, webhooks arriving at both, and every agent sees every message exactly once.

Not a Playwright test, but it needs what the browser suite sets up: a committed database, Redis, and
servers started as subprocesses (tests/browser/conftest.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from channels_app.actions.webhooks import do_store_signing_secret
from channels_app.hub.signatures import sign
from channels_app.models import Membership
from tests.browser.browser_support import session_cookie, synced_inbox_socket
from tests.browser.conftest import ServerProcess, _child_env, _port_open
from tests.conftest import _user
from tests.inbox.inbox_support import channel_of, make_conversation
from tests.support import free_port, wait_for

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SECRET = "whsec_scale_out_" + "s" * 24
MESSAGES = 12
TOKEN = re.compile(r"scale-(\d+)-")


@pytest.fixture
def two_processes(stack, sandbox_server, tmp_path) -> Iterator[tuple[str, list[str]]]:
    """Two daphne processes and nginx in front of them: (nginx's base URL, the upstream addresses)."""
    listen = free_port()
    base = f"http://127.0.0.1:{listen}"
    env = _child_env(sandbox_url=sandbox_server.url, public_url=base)
    ports = [free_port(), free_port()]
    servers = [
        ServerProcess(
            f"daphne-{n}",
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "hubdash.asgi:application"],
            env,
            tmp_path / f"daphne-{n}.log",
            port=port,
        )
        for n, port in enumerate(ports)
    ]
    upstreams = [f"127.0.0.1:{port}" for port in ports]
    config = (ROOT / "docs" / "scaling" / "nginx.conf").read_text()
    config = (
        config.replace("{{prefix}}", str(tmp_path))
        .replace("{{listen}}", f"127.0.0.1:{listen}")
        .replace("{{upstreams}}", " ".join(f"server {u};" for u in upstreams))
    )
    if os.geteuid() == 0:
        config = "user root;\n" + config  # workers keep the test's user: the temp folders are its own
    (tmp_path / "nginx.conf").write_text(config)
    nginx = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for server in servers:
            server.start()
        wait_for(lambda: nginx.poll() is not None or _port_open(listen), timeout=20, what="nginx to listen")
        assert nginx.poll() is None, nginx.communicate()[1]
        yield base, upstreams
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        for server in servers:
            server.stop()


def _signed(app_channel, n: int) -> tuple[bytes, dict[str, str]]:
    event = {
        "eventType": "Message",
        "channelId": str(app_channel.hub_channel_id),
        "messageId": f"wamid.scale.{uuid.uuid4().hex}",
        "from": f"5511{n:09d}",  # one customer per message: each row shows its own message
        "timestamp": int(time.time()),
        "channel": "whatsapp",
        "content": {"type": "text", "text": f"scale-{n}- Olá, chegou?"},
    }
    body = json.dumps(event).encode()
    return body, {"Content-Type": "application/json", "X-Hub-Signature": sign(body, SECRET)}


@pytest.mark.skipif(
    not Path(NGINX).exists() and not os.environ.get("CI"),
    reason="needs nginx (apt-get install nginx-light); .ci/run installs it, so CI never skips this",
)
def test_agents_on_two_processes_each_see_every_message_once(two_processes, app_a, agent_a):

    base, upstreams = two_processes
    do_store_signing_secret(application=app_a, hub_webhook_id="scale", secret=SECRET)
    agents = [agent_a]
    for n in range(3):
        agents.append(_user(f"scale{n}"))
        Membership.objects.create(user=agents[-1], application=app_a, role=Membership.Role.AGENT)
    cookies = [session_cookie(agent) for agent in agents]
    whatsapp = channel_of(app_a, "whatsapp")
    webhook = f"{base}/hub/webhook/{app_a.public_id}/"

    async def scenario():
        sockets, served_by = [], []
        for cookie in cookies:
            ws = await synced_inbox_socket(base, cookie)
            served_by.append(ws.response.headers.get("X-Upstream"))
            sockets.append(ws)

        posted_to = []
        for n in range(MESSAGES + 1):  # the last one is a sentinel: once it is in, the others had time
            body, headers = _signed(whatsapp, n)
            answer = await asyncio.to_thread(requests.post, webhook, data=body, headers=headers, timeout=15)
            assert answer.status_code == 200, answer.text
            posted_to.append(answer.headers.get("X-Upstream"))

        async def heard(ws) -> dict[int, int]:
            counts: dict[int, int] = {}
            while MESSAGES not in counts:
                frame = await asyncio.wait_for(ws.recv(), 30)
                for token in set(TOKEN.findall(frame)):
                    counts[int(token)] = counts.get(int(token), 0) + 1
            return counts

        counts = await asyncio.gather(*(heard(ws) for ws in sockets))
        for ws in sockets:
            await ws.close()
        return served_by, posted_to, counts

    # In a thread of its own: Playwright's sync API may have left an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        served_by, posted_to, counts = pool.submit(asyncio.run, scenario()).result()

    # Agents really are on different processes, and the Hub's deliveries reached both.
    assert set(served_by) == set(upstreams), served_by
    assert set(posted_to) == set(upstreams), posted_to
    for agent_counts in counts:
        assert {n: agent_counts.get(n, 0) for n in range(MESSAGES)} == dict.fromkeys(range(MESSAGES), 1)


@pytest.mark.skipif(
    not Path(NGINX).exists() and not os.environ.get("CI"),
    reason="needs nginx (apt-get install nginx-light); .ci/run installs it, so CI never skips this",
)
def test_a_change_to_the_menus_shows_on_the_next_page_of_every_process(two_processes, app_a, agent_a, admin):
    from conversations.actions.labels import do_create_label

    _, upstreams = two_processes
    conversation = make_conversation(app_a)
    vip = do_create_label(actor=admin, application=app_a, name="VIP", colour="#e03131")
    cookie = session_cookie(agent_a)

    def thread_on(upstream: str) -> str:
        url = f"http://{upstream}/conversations/{conversation.pk}/"
        answer = requests.get(url, headers={"Cookie": cookie}, timeout=15)
        assert answer.status_code == 200, answer.text[:500]
        return answer.text

    # Each process draws the thread, and keeps its Application's members and labels.
    for page in [thread_on(upstream) for upstream in upstreams]:
        assert f'name="label" value="{vip.pk}:add"' in page and ">Ada Admin</option>" in page
    # Changed by neither: by this process, as `manage.py` or another server would.
    later = do_create_label(actor=admin, application=app_a, name="Later", colour="#f08c00")
    admin.first_name = "Adalgisa"
    admin.save()

    for page in [thread_on(upstream) for upstream in upstreams]:
        assert f'name="label" value="{later.pk}:add"' in page
        assert ">Adalgisa Admin</option>" in page and ">Ada Admin</option>" not in page
