"""serve in development: the product's serve (jobs/management/commands/serve.py) with
the demo organization, the admin/admin superuser and Django's development server.

The development tools are installed only outside production (commerce/settings.py), and
they come before jobs in INSTALLED_APPS, so this command is ``manage.py serve`` there.
Should settings still say production (a test overriding them), it is the product's serve
unchanged: no demo, no user with a known password, gunicorn.
"""

import sys

from django.conf import settings
from django.core.management.base import CommandError
from django.db import DatabaseError

from devtools.demo.loading import ADMIN_PASSWORD, ADMIN_USERNAME, demo_setup
from jobs.management.commands import serve


class Command(serve.Command):
    help = (
        "Run the product: migrate every database, load the demo organization, then start "
        "a django-q2 cluster (qcluster) and the development web server until Ctrl-C or "
        "SIGTERM stops both. With ENVIRONMENT=production: no demo and no admin/admin "
        "user, static files collected, and gunicorn instead of the development server."
    )

    def prepare(self, *, address: str, port: str, no_demo: bool) -> str:
        if settings.PRODUCTION:
            return super().prepare(address=address, port=port, no_demo=no_demo)
        host = "127.0.0.1" if address in ("0.0.0.0", "::", "[::]") else address
        admin = f"Admin: http://{host}:{port}/admin/"
        if no_demo:
            return admin
        try:
            report = demo_setup()
        except DatabaseError as exc:
            raise CommandError(f"Demo not loaded: {' '.join(str(exc).split())}") from None
        created = sum(c.created for c in report.imported.counts.values())
        self.stdout.write(f"Demo organization loaded ({created} new records).")
        return admin + f"  login: {ADMIN_USERNAME} / {ADMIN_PASSWORD}"

    def web_server(self, address: str, port: str) -> tuple[str, list[str]]:
        if settings.PRODUCTION:
            return super().web_server(address, port)
        runserver = [sys.executable, serve.manage_py(), "runserver", f"{address}:{port}"]
        return "runserver", [*runserver, "--noreload"]
