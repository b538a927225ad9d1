"""What the customers' management commands share: their common options, and the look-ups
and error wording behind them (a store by number, an HQ user by name, an HQ customer by
account)."""

from __future__ import annotations

import getpass
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from commerce.db import ChannelDatabaseUnreachable
from commerce.models import Store
from customers.services.erasure import ErasureError, customer_find
from customers.services.labels import operator_text
from customers.services.validation import CustomerValidationError, StoreInputError


def store_argument_add(parser) -> None:
    """The required ``--store NUMBER`` option."""
    parser.add_argument("--store", required=True, help="store number, e.g. S0001")


def store_for(number: str) -> Store:
    """The store with this number, or a CommandError naming it."""
    store = Store.objects.filter(number=number).first()
    if store is None:
        raise CommandError(f'Unknown store "{number}".')
    return store


@contextmanager
def store_refusals(store: Store, what: str):
    """The store's or HQ's refusal of ``what`` (e.g. "the customer"), or an unreachable
    channel database, raised as a CommandError in operator language."""
    try:
        yield
    except StoreInputError as error:
        raise CommandError(
            f"Store {store.number} refused {what}: {operator_text(str(error))}"
        ) from error
    except CustomerValidationError as error:
        raise CommandError(f"HQ refused {what}: {operator_text(str(error))}") from error
    except ChannelDatabaseUnreachable as error:
        raise CommandError(error.cannot_be_reached) from error


def user_argument_add(parser, *, who: str) -> None:
    """The ``--user USERNAME`` option: the HQ user who ``who`` (e.g. "merged")."""
    parser.add_argument(
        "--user",
        metavar="USERNAME",
        help=f"The HQ user who {who} (default: this shell's user, recorded by name).",
    )


def user_for(username: str | None):
    """The HQ user of ``--user``, None without it, or a CommandError naming it."""
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f'Unknown user "{username}".')
    return user


def shell_user() -> str:
    """Who runs the command, as recorded when no ``--user`` is given."""
    return f"{getpass.getuser()} (command line)"


def account_arguments_add(parser) -> None:
    """The ``ACCOUNT`` argument and its ``--legal-entity CODE`` option."""
    parser.add_argument("account", metavar="ACCOUNT", help="The HQ customer account.")
    parser.add_argument(
        "--legal-entity", metavar="CODE", help="When two legal entities have the account."
    )


def customer_for(account: str, legal_entity: str | None):
    """The HQ customer of ``ACCOUNT`` (and ``--legal-entity``), or a CommandError."""
    try:
        return customer_find(account=account, legal_entity=legal_entity)
    except ErasureError as error:
        raise CommandError(str(error)) from None
