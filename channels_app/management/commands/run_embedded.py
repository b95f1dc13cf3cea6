"""`make run`: migrate, then run the Hub sandbox, daphne and a worker together; Ctrl-C stops them all.

Each piece runs as its own process, as in production, so what you try locally is what you deploy.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from typing import cast

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


def _command(proc: subprocess.Popen[bytes]) -> str:
    return " ".join(cast("list[str]", proc.args))  # every process here starts from a list of str


def _wait_for_port(host: str, port: int, timeout: float, procs: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise CommandError(f"{_command(proc)} exited with {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise CommandError(f"nothing listens on {host}:{port} after {timeout:g} s")


class Command(BaseCommand):
    help = "Run Hubdash with the Hub sandbox, daphne and a background worker (the `make run` default)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--sandbox-port", type=int, default=int(os.environ.get("SANDBOX_PORT", 8765)))
        parser.add_argument(
            "--customers-rate",
            type=float,
            default=float(os.environ.get("SANDBOX_CUSTOMERS_RATE", 0.2)),
            help="Messages per second the sandbox's customers write in (0 = quiet).",
        )
        parser.add_argument("--no-sandbox", action="store_true", help="Talk to HUB_BASE_URL instead.")

    def handle(
        self, *args, host: str, port: int, sandbox_port: int, customers_rate: float, no_sandbox: bool, **kw
    ):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        env = dict(os.environ)
        env.setdefault("PUBLIC_BASE_URL", f"http://{host}:{port}")
        if not no_sandbox:
            env["HUB_BASE_URL"] = f"http://127.0.0.1:{sandbox_port}"
        if not env.get("REDIS_URL"):
            # One process, one in-memory channel layer: daphne runs the worker in its own threads.
            env["RUN_WORKER_IN_PROCESS"] = "true"
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        procs: list[subprocess.Popen[bytes]] = []

        def stop(*_: object) -> None:
            for proc in reversed(procs):
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()

        def stop_and_exit(*_: object) -> None:
            stop()
            sys.exit(0)

        signal.signal(signal.SIGTERM, stop_and_exit)
        # Started in the background by a shell, SIGINT arrives ignored; Ctrl-C must still stop everything.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            if not no_sandbox:
                procs.append(
                    subprocess.Popen(
                        [*manage, "hub_sandbox", "--host", "127.0.0.1", "--port", str(sandbox_port)], env=env
                    )
                )
                _wait_for_port("127.0.0.1", sandbox_port, 30, procs)
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "daphne", "-b", host, "-p", str(port), "hubdash.asgi:application"],
                    env=env,
                    cwd=settings.BASE_DIR,
                )
            )
            if env.get("REDIS_URL"):
                procs.append(subprocess.Popen([*manage, "run_worker"], env=env))
            _wait_for_port(host, port, 60, procs)
            seed = [*manage, "seed_demo"]
            if no_sandbox:
                seed.append("--no-sandbox")
            else:
                seed += ["--customers-rate", str(customers_rate)]
            subprocess.run(seed, env=env, check=True)
            self.stdout.write(
                self.style.SUCCESS(f"\nHubdash is up: http://{host}:{port}/   (Ctrl-C stops everything)\n")
            )
            while all(proc.poll() is None for proc in procs):
                time.sleep(0.5)
            failed = [p for p in procs if p.poll() is not None]
            raise CommandError(f"{_command(failed[0])} exited with {failed[0].returncode}")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            stop()
