"""Foreground runner shared by `python -m hubsandbox` and `manage.py hub_sandbox`."""

from __future__ import annotations

import argparse
import json
import logging
import threading
from pathlib import Path
from typing import Any

from .server import HubSandbox


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765, 0 = any)")
    parser.add_argument("--seed", type=int, default=None, help="seed for faults and simulated customers")
    parser.add_argument(
        "--customers-rate",
        type=float,
        default=0.0,
        help="simulated inbound customer messages per second (default 0 = off)",
    )
    parser.add_argument(
        "--application-file",
        type=Path,
        default=None,
        help="JSON file with an application {name, apiKey?, channels} or a list of them",
    )


def load_applications(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    if isinstance(data, dict) and "applications" in data:
        data = data["applications"]
    return data if isinstance(data, list) else [data]


def run(
    *,
    host: str,
    port: int,
    seed: int | None = None,
    customers_rate: float = 0.0,
    application_file: Path | None = None,
    stop_event: threading.Event | None = None,
    out: Any = None,
) -> None:
    """Serve until Ctrl-C (or until `stop_event` is set)."""
    printer = out.write if out is not None else lambda text: print(text, end="", flush=True)
    sandbox = HubSandbox(host, port, seed=seed)
    if application_file is not None:
        for app in load_applications(application_file):
            created = sandbox.add_application(
                name=app["name"], api_key=app.get("apiKey"), channels=app.get("channels", [])
            )
            printer(f"application {created['name']!r} apiKey={created['apiKey']}\n")
            for channel in created["channels"]:
                printer(f"  {channel['kind']:<10} {channel['id']}  {channel['address'] or ''}\n")
    if customers_rate:
        sandbox.configure(customersRate=customers_rate)
    sandbox.start()
    # Flushed immediately: scripts and tests poll stdout/the port to know the sandbox is up.
    printer(f"Hub sandbox listening on {sandbox.url} (Ctrl-C to stop)\n")
    if hasattr(out, "flush"):
        out.flush()
    waiter = stop_event or threading.Event()
    try:
        while not waiter.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m hubsandbox", description="Run the Hub Chatt2.me sandbox."
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run(
        host=args.host,
        port=args.port,
        seed=args.seed,
        customers_rate=args.customers_rate,
        application_file=args.application_file,
    )
