"""Start/stop, the control API for applications, and the two ways to run the sandbox from a shell."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from hubsandbox import HubSandbox
from tests.hubsandbox.sandbox_support import RECIPIENTS, HubClient, Receiver, http
from tests.support import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def wait_until_up(url: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if http("GET", url + "/_sandbox/settings").status == 200:
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"sandbox at {url} did not come up")


def test_stop_then_start_on_the_same_port_keeps_state() -> None:
    sandbox = HubSandbox(port=0).start()
    try:
        sandbox.configure(statusDelaysMs={"sent": 0, "delivered": 0, "read": 0})
        app = sandbox.add_application(name="A", api_key="k", channels=[{"kind": "telegram"}])
        client = HubClient(sandbox.url, "k")
        url = sandbox.url
        assert (
            client.send("telegram", app["channels"][0]["id"], RECIPIENTS["telegram"], {"text": "1"}).status
            == 200
        )
        sandbox.stop()
        try:
            http("GET", url + "/_sandbox/settings")
            raise AssertionError("the sandbox still answers while stopped")
        except OSError:
            pass
        sandbox.start()
        assert sandbox.url == url
        assert (
            client.send("telegram", app["channels"][0]["id"], RECIPIENTS["telegram"], {"text": "2"}).status
            == 200
        )
        assert len(sandbox.accepted_sends()) == 2
    finally:
        sandbox.stop()


def test_status_events_due_while_stopped_arrive_after_restart(make_receiver: Callable[..., Receiver]) -> None:
    sandbox = HubSandbox(port=0).start()
    try:
        sandbox.configure(statusDelaysMs={"sent": 150})
        app = sandbox.add_application(name="A", api_key="k", channels=[{"kind": "telegram"}])
        client = HubClient(sandbox.url, "k")
        receiver = make_receiver()
        client.create_webhook(receiver.url, "MessageStatus")
        client.send("telegram", app["channels"][0]["id"], RECIPIENTS["telegram"], {"text": "1"})
        sandbox.stop()
        time.sleep(0.3)
        assert receiver.events == []  # the Hub is down: nothing is delivered
        sandbox.start()
        receiver.wait_for(lambda events: len(events) == 1)
    finally:
        sandbox.stop()


def test_the_applications_endpoint_is_idempotent_per_api_key(hub: HubSandbox) -> None:
    body = {"name": "Loja", "apiKey": "loja-key", "channels": [{"kind": "whatsapp", "id": "wa-1"}]}
    first = http("POST", hub.url + "/_sandbox/applications", body=body)
    assert first.status == 201
    assert first.body["apiKey"] == "loja-key"
    again = http(
        "POST",
        hub.url + "/_sandbox/applications",
        body={**body, "channels": [{"kind": "whatsapp", "id": "wa-1"}, {"kind": "sms", "id": "sms-1"}]},
    )
    assert again.body["id"] == first.body["id"]
    assert [c["id"] for c in again.body["channels"]] == ["wa-1", "sms-1"]
    listed = http("GET", hub.url + "/_sandbox/applications").body["data"]
    assert len(listed) == 1
    assert (
        http(
            "POST", hub.url + "/_sandbox/applications", body={"name": "x", "channels": [{"kind": "fax"}]}
        ).status
        == 400
    )


def test_a_channel_id_cannot_move_to_another_application(hub: HubSandbox) -> None:
    hub.add_application(name="A", api_key="a", channels=[{"kind": "sms", "id": "shared"}])
    answer = http(
        "POST",
        hub.url + "/_sandbox/applications",
        body={"name": "B", "apiKey": "b", "channels": [{"kind": "sms", "id": "shared"}]},
    )
    assert answer.status == 400


def test_generated_api_keys_and_channel_ids_are_returned(hub: HubSandbox) -> None:
    app = hub.add_application(name="Gen", channels=[{"kind": "webchatt"}, {"kind": "whatsapp"}])
    assert app["apiKey"]
    webchatt, whatsapp = app["channels"]
    assert webchatt["address"] is None  # Web Chatt takes only its UUID as `from` (§2)
    assert whatsapp["address"].isdigit()


def run_until_up(
    command: list[str], port: int, env: dict[str, str], tmp_path: Path
) -> subprocess.Popen[bytes]:
    log = (tmp_path / "out.log").open("wb")
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}")
    except AssertionError:
        process.kill()
        raise AssertionError((tmp_path / "out.log").read_text()) from None
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=10)


def test_the_management_command_serves_until_terminated(tmp_path: Path) -> None:
    port = free_port()
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps({"name": "Seeded", "apiKey": "seed-key", "channels": [{"kind": "sms", "id": "sms-1"}]})
    )
    # A minimal settings module keeps the command independent of the project's (changing) settings.
    (tmp_path / "sandbox_command_settings.py").write_text(
        "SECRET_KEY = 'x'\nINSTALLED_APPS = ['hubsandbox']\nDATABASES = {}\nUSE_TZ = True\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sandbox_command_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(PROJECT_ROOT)]),
    }
    command = [
        sys.executable,
        "-m",
        "django",
        "hub_sandbox",
        "--port",
        str(port),
        "--application-file",
        str(seed),
        "--customers-rate",
        "0",
    ]
    process = run_until_up(command, port, env, tmp_path)
    try:
        answer = HubClient(f"http://127.0.0.1:{port}", "seed-key").send(
            "sms", "sms-1", RECIPIENTS["sms"], {"text": "x"}
        )
        assert answer.status == 200
    finally:
        stop(process)
    assert "seed-key" in (tmp_path / "out.log").read_text()


def test_python_dash_m_hubsandbox_serves_until_terminated(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    process = run_until_up([sys.executable, "-m", "hubsandbox", "--port", str(port)], port, env, tmp_path)
    try:
        assert http("GET", f"http://127.0.0.1:{port}/_sandbox/applications").body == {"data": []}
    finally:
        stop(process)


def test_project_manage_py_knows_the_command_when_it_exists(tmp_path: Path) -> None:
    manage = PROJECT_ROOT / "manage.py"
    result = subprocess.run(
        [sys.executable, str(manage), "hub_sandbox", "--help"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"--customers-rate" in result.stdout
