"""The product's one-command start: databases, schedules, a qcluster and gunicorn.

README "Running in production": it loads no demo and creates no user (a known password
must never reach a shared machine), refuses to start while an active superuser or staff
user has a well-known password (admin/admin from a database first set up in
development), collects the static files WhiteNoise serves, and runs gunicorn.

Outside production the development tools are installed, and their serve
(devtools/management/commands/serve.py) extends this one with the demo organization
and Django's development server: one ``manage.py serve`` with the same flags in both.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from commerce.security import staff_users_with_known_password
from commerce.services import databases_migrate
from jobs.services import schedules_setup

STOP_TIMEOUT = 15  # seconds a child gets to stop cleanly before it is killed
POLL_INTERVAL = 0.5


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop(signal.Signals(signum).name)


def manage_py() -> str:
    return str(Path(settings.BASE_DIR) / "manage.py")


def web_server_command(address: str, port: str) -> tuple[str, list[str]]:
    """The production web server: its name and its command line."""
    # Workers: gunicorn reads WEB_CONCURRENCY (and GUNICORN_CMD_ARGS) itself.
    return "gunicorn", [
        sys.executable,
        "-m",
        "gunicorn",
        settings.WSGI_APPLICATION.replace(".application", ":application"),
        "--bind",
        f"{address}:{port}",
        # The product's gunicorn settings: no Server header naming gunicorn.
        "--config",
        "python:commerce.gunicorn_conf",
        "--access-logfile",
        "-",
        # serve stops it by signal; a control socket at gunicorn's default path
        # (~/.gunicorn/gunicorn.ctl) would be shared by every gunicorn of the user.
        "--no-control-socket",
    ]


class Command(BaseCommand):
    help = (
        "Run the product: migrate every database, set up the schedules, then start a "
        "django-q2 cluster (qcluster) and gunicorn until Ctrl-C or SIGTERM stops both. "
        "No demo and no admin/admin user; static files collected."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--addrport",
            default="127.0.0.1:8000",
            help="Address and port of the web server (default 127.0.0.1:8000).",
        )
        parser.add_argument(
            "--no-demo",
            action="store_true",
            help="Do not load the demo organization (never loaded with ENVIRONMENT=production).",
        )

    def handle(self, *args, addrport, no_demo, **options):
        address, port = self._split_addrport(addrport)
        self.stdout.write("Migrating HQ and channel databases…")
        unreachable = []
        try:
            databases_migrate(verbosity=0, unreachable=unreachable)
        except DatabaseError as exc:  # HQ: channel databases are in `unreachable`
            raise CommandError(f"HQ database not migrated: {' '.join(str(exc).split())}") from None
        # The jobs isolate a channel database that is down; the rest of the product runs.
        for database in unreachable:
            self.stderr.write(f"Warning: not migrated: {database}")
        admin = self.prepare(address=address, port=port, no_demo=no_demo)
        for name, _created in schedules_setup():
            self.stdout.write(f"Schedule: {name}")

        web_name, web_command = self.web_server(address, port)
        names = ["qcluster", web_name]
        children: list[subprocess.Popen] = []
        previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            # Own process groups: a terminal Ctrl-C reaches only this process, which
            # then stops each child exactly once (qcluster shuts down its workers).
            children.append(
                subprocess.Popen([sys.executable, manage_py(), "qcluster"], process_group=0)
            )
            children.append(subprocess.Popen(web_command, process_group=0))
            self.stdout.write(self.style.SUCCESS(admin))
            self.stdout.write("Press Ctrl-C to stop the web server and the cluster.")
            self.stdout.flush()
            self._wait(children, names)
        except _Stop as stop:
            self.stdout.write(f"\n{stop.args[0]} received: stopping…")
        finally:
            self._stop(children)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("Stopped.")

    def prepare(self, *, address: str, port: str, no_demo: bool) -> str:
        """No demo and no known password; the static files WhiteNoise serves without
        DEBUG. Returns the line saying where the admin is and how to log in."""
        weak = staff_users_with_known_password()
        if weak:
            # A database set up in development keeps admin/admin: never serve that login.
            raise CommandError(
                f"ENVIRONMENT=production: not serving while {', '.join(weak)} "
                f"{'has' if len(weak) == 1 else 'have'} a well-known password; "
                f"change it with manage.py changepassword {weak[0]}"
            )
        self.stdout.write(
            "ENVIRONMENT=production: the demo organization and the admin/admin user are not loaded."
        )
        call_command("collectstatic", interactive=False, verbosity=0)
        # Production redirects to HTTPS and answers only ALLOWED_HOSTS: the admin is
        # reached through the TLS proxy in front of gunicorn, not on its own port.
        site = settings.ALLOWED_HOSTS[0].lstrip(".")
        admin = f"Admin: https://{site}/admin/ (gunicorn on {address}:{port}, behind the proxy)"
        if not get_user_model().objects.filter(is_superuser=True, is_active=True).exists():
            admin += "  no superuser yet: create one with manage.py createsuperuser"
        return admin

    def web_server(self, address: str, port: str) -> tuple[str, list[str]]:
        return web_server_command(address, port)

    @staticmethod
    def _split_addrport(addrport: str) -> tuple[str, str]:
        address, sep, port = addrport.rpartition(":")
        if not sep:
            address, port = "127.0.0.1", addrport
        if not port.isdigit():
            raise CommandError(f"--addrport: {addrport!r} is not ADDRESS:PORT or PORT.")
        return address or "127.0.0.1", port

    def _wait(self, children: list[subprocess.Popen], names: list[str]) -> None:
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
