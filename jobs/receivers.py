"""Receivers of the commerce signals the jobs act on (Freshness)."""

import logging
from functools import partial

from django.conf import settings
from django.db import transaction

from jobs.freshness import store_write_trigger

logger = logging.getLogger(__name__)


def _trigger_after_commit(alias: str) -> None:
    # The store's write has committed: a failure here (HQ unreachable, say) must not
    # reach the store. The demand is lost with it, and the schedule converts the write.
    try:
        store_write_trigger(alias=alias)
    except Exception:
        logger.exception(
            "store write at %s: the conversion was not triggered; the schedule will pick it up",
            alias,
        )


def conversion_trigger_on_store_write(sender, alias, **kwargs):
    """``store_data_written``: once the store's transaction commits, trigger the
    conversion of its channel database (coalesced, ``jobs.freshness``). Off with
    ``CONVERSION_TRIGGERS=0`` (bulk loads, or scripts that run the jobs themselves);
    the schedules still convert every write."""
    if not settings.CONVERSION_TRIGGERS:
        return
    transaction.on_commit(partial(_trigger_after_commit, alias), using=alias)
