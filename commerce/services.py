"""Organization-level writes: database set-up.

Every function here is safe to re-run.
"""

from django.core.management import call_command

from commerce.db import HQ, channel_aliases


def databases_migrate(*, verbosity: int = 1, stdout=None) -> list[str]:
    """Migrate HQ and every configured channel database. Idempotent."""
    aliases = [HQ, *channel_aliases()]
    for alias in aliases:
        call_command(
            "migrate", database=alias, interactive=False, verbosity=verbosity, stdout=stdout
        )
    return aliases
