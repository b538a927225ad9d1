"""The product's one-command start: databases, demo data, a qcluster and the web server."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from commerce.services import databases_migrate
from jobs.devtools.demo import ADMIN_PASSWORD, ADMIN_USERNAME, demo_setup
from jobs.services import schedules_setup

STOP_TIMEOUT = 15  # seconds a child gets to stop cleanly before it is killed
POLL_INTERVAL = 0.5


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop(signal.Signals(signum).name)


class Command(BaseCommand):
    help = (
        "Run the product: migrate every database, load the demo organization, then start "
        "a django-q2 cluster (qcluster) and the development web server until Ctrl-C or "
        "SIGTERM stops both."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--addrport",
            default="127.0.0.1:8000",
            help="Address and port of the web server (default 127.0.0.1:8000).",
        )
        parser.add_argument(
            "--no-demo", action="store_true", help="Do not load the demo organization."
        )

    def handle(self, *args, addrport, no_demo, **options):
        address, port = self._split_addrport(addrport)
        self.stdout.write("Migrating HQ and channel databases…")
        databases_migrate(verbosity=0)
        if not no_demo:
            report = demo_setup()
            created = sum(c.created for c in report.imported.counts.values())
            self.stdout.write(f"Demo organization loaded ({created} new records).")
            login = f"  login: {ADMIN_USERNAME} / {ADMIN_PASSWORD}"
        else:
            login = ""
        for name, _created in schedules_setup():
            self.stdout.write(f"Schedule: {name}")

        manage = str(Path(settings.BASE_DIR) / "manage.py")
        children: list[subprocess.Popen] = []
        previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            # Own process groups: a terminal Ctrl-C reaches only this process, which
            # then stops each child exactly once (qcluster shuts down its workers).
            children.append(subprocess.Popen([sys.executable, manage, "qcluster"], process_group=0))
            children.append(
                subprocess.Popen(
                    [sys.executable, manage, "runserver", f"{address}:{port}", "--noreload"],
                    process_group=0,
                )
            )
            host = "127.0.0.1" if address in ("0.0.0.0", "::", "[::]") else address
            self.stdout.write(self.style.SUCCESS(f"Admin: http://{host}:{port}/admin/{login}"))
            self.stdout.write("Press Ctrl-C to stop the web server and the cluster.")
            self.stdout.flush()
            self._wait(children)
        except _Stop as stop:
            self.stdout.write(f"\n{stop.args[0]} received: stopping…")
        finally:
            self._stop(children)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("Stopped.")

    @staticmethod
    def _split_addrport(addrport: str) -> tuple[str, str]:
        address, sep, port = addrport.rpartition(":")
        if not sep:
            address, port = "127.0.0.1", addrport
        if not port.isdigit():
            raise CommandError(f"--addrport: {addrport!r} is not ADDRESS:PORT or PORT.")
        return address or "127.0.0.1", port

    def _wait(self, children: list[subprocess.Popen]) -> None:
        names = ["qcluster", "runserver"]
        while True:
            for name, child in zip(names, children, strict=True):
                code = child.poll()
                if code is not None:
                    raise CommandError(f"{name} exited unexpectedly (exit code {code}).")
            time.sleep(POLL_INTERVAL)

    def _stop(self, children: list[subprocess.Popen]) -> None:
        # Ignore further Ctrl-C / SIGTERM while the children shut down (bounded by
        # STOP_TIMEOUT); a second signal would otherwise abort the clean stop.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in children:
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                # Kill the whole group, so no cluster worker outlives it.
                try:
                    os.killpg(child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                child.wait()
