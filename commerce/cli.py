"""What every management command shares on the command line (README "Management
commands"), set up once from ``CommerceConfig.ready``:

- a bad option value is one line on standard error (``error: argument --format:
  invalid choice: 'xml' (choose from table, json)``) and exit status 2, not argparse's
  usage dump;
- a command other than the cluster keeps django-q's log lines (``[Q] INFO Enqueued …``)
  off standard error, which is where a command's own notices go (the real-time
  fallback of ``create_customer_at_store``, say); warnings and errors still show.
"""

from __future__ import annotations

import logging

from django.core.management.base import BaseCommand, CommandParser

# Commands that are the cluster (or start it and show its log): their log stays.
CLUSTER_COMMANDS = frozenset({"qcluster", "serve"})

_patched = False


def _one_line_error(self: CommandParser, message: str):
    """``CommandParser.error``: one line when run from the command line (argparse's
    exit status 2); as Django does otherwise (a CommandError for ``call_command``)."""
    if not self.called_from_command_line:
        return _django_error(self, message)
    self.exit(2, f"error: {' '.join(message.split())}\n")


def _run_from_argv(self: BaseCommand, argv: list[str]):
    if len(argv) > 1 and argv[1] not in CLUSTER_COMMANDS:
        cluster_log_quiet()
    return _django_run_from_argv(self, argv)


def cluster_log_quiet() -> None:
    """django-q logs only warnings and errors in this process. Its configuration is
    read first, since it sets the logger's level when it is imported."""
    import django_q.conf  # noqa: F401  sets up the "django-q" logger

    logging.getLogger("django-q").setLevel(logging.WARNING)


_django_error = CommandParser.error
_django_run_from_argv = BaseCommand.run_from_argv


def command_line_setup() -> None:
    """Install the one-line option errors and the quiet cluster log (once)."""
    global _patched
    if _patched:
        return
    CommandParser.error = _one_line_error
    BaseCommand.run_from_argv = _run_from_argv
    _patched = True
