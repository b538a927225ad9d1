"""Pass 1 of an import, its end: every reference the file makes checked against the
file and HQ (legal entity, customer group, channel database, functionality profile,
default customer, store, the customers edits name) and the limits the databases decide
(a location id staying with its customer, account lengths). The reference half of the
pass's state (``checks._FileState``), which collects the keys while reading.
"""

import uuid

from commerce.db import is_channel_alias
from commerce.models import (
    ACCOUNT_MAX_LENGTH,
    ChannelDatabase,
    FunctionalityProfile,
    LegalEntity,
    NumberSequence,
    Store,
)
from customers.models import (
    Address,
    Affiliation,
    AsyncCustomer,
    Customer,
    CustomerAttribute,
    CustomerGroup,
)
from customers.services.validation import AttributeSetup, attribute_value_error

from .queries import rows
from .report import invalid, unknown


def hq_accounts(pairs) -> set[tuple[str, str]]:
    """The (legal entity code, account) pairs at HQ among the accounts of ``pairs``."""
    return set(
        rows(
            Customer.objects,
            "account",
            {account for _, account in pairs},
            "legal_entity__code",
            "account",
        )
    )


class _ReferenceChecks:
    """The checks ``_FileState`` runs on the keys it collected (see its attributes)."""

    def flush_locations(self) -> None:
        """A location id is unique at HQ: it may not move to another customer."""
        batch, self.location_batch = self.location_batch, []
        if not batch or self.find is not None:
            return
        found = rows(
            Address.objects,
            "location_id",
            [location_id for location_id, *_ in batch],
            "location_id",
            "party__customer__legal_entity__code",
            "party__customer__account",
        )
        owners = {location_id: (le, account) for location_id, le, account in found}
        for location_id, legal_entity, account, path in batch:  # in file order
            owner = owners.get(location_id, (legal_entity, account))
            if owner != (legal_entity, account):
                who = f'customer "{owner[1]}"' if owner[1] else "a party without customer"
                raise invalid(path, f"already the address of {who}", location_id)

    def check_references(self) -> list[tuple[str, str]]:
        """Every reference against the file and HQ; returns each channel entry's store
        and channel alias."""
        seen = self.seen
        legal_entities = seen.get("legal entity code", set())
        wanted = set(self.legal_entity_refs.first) - legal_entities
        legal_entities |= {code for (code,) in rows(LegalEntity.objects, "code", wanted, "code")}
        self.legal_entity_refs.require(legal_entities)
        self._check_account_lengths()

        groups = seen.get("customer group", set())
        wanted = set(self.group_refs.first) - groups
        groups |= set(
            rows(
                CustomerGroup.objects,
                "code",
                {code for _, code in wanted},
                "legal_entity__code",
                "code",
            )
        )
        self.group_refs.require(groups, shown=lambda key: key[1])
        self._check_customer_attributes()

        if not (self.channel_databases or self.stores or self.entries):
            return []
        # Channel databases are few (each needs a configured alias): read them all.
        databases = dict(ChannelDatabase.objects.values_list("name", "alias"))
        for alias, path in self.channel_databases.values():
            for other, other_alias in databases.items():
                if other_alias == alias and other not in self.channel_databases:
                    raise invalid(path, f'already used by channel database "{other}"', alias)
        databases.update({name: alias for name, (alias, _) in self.channel_databases.items()})
        self.database_refs.require(set(databases))

        profiles = seen.get("functionality profile code", set())
        wanted = set(self.profile_refs.first) - profiles
        profiles |= {c for (c,) in rows(FunctionalityProfile.objects, "code", wanted, "code")}
        self.profile_refs.require(profiles)

        customers = seen.get("customer account", set())
        wanted = set(self.default_customer_refs) - customers
        customers = hq_accounts(wanted)
        for (legal_entity, account), path in self.default_customer_refs.items():
            if (legal_entity, account) in wanted and (legal_entity, account) not in customers:
                raise unknown(path, f"customer of legal entity {legal_entity}", account)

        entries, store_entities = self._store_entries(databases)
        self._check_edit_customers(entries, store_entities, databases)
        return entries

    def _check_customer_attributes(self) -> None:
        """R2: an HQ customer's attributes and affiliations name ones in the file or at
        HQ, and each attribute value is of its attribute's type and choices."""
        setups = dict(self.attribute_setups)
        wanted = set(self.attribute_refs.first) - set(setups)
        for name, type_, choices in rows(
            CustomerAttribute.objects, "name", wanted, "name", "type", "choices"
        ):
            setups[name] = (type_, list(choices or []))
        self.attribute_refs.require(set(setups))
        for name, value, path in self.customer_attribute_values:
            type_, choices = setups[name]
            problem = attribute_value_error(
                AttributeSetup(name=name, type=type_, choices=choices), value
            )
            if problem:
                raise invalid(path, problem, value)
        affiliations = set(self.seen.get("affiliation name", set()))
        wanted = set(self.affiliation_refs.first) - affiliations
        affiliations |= {n for (n,) in rows(Affiliation.objects, "name", wanted, "name")}
        self.affiliation_refs.require(affiliations)

    def _store_entries(
        self, databases: dict[str, str]
    ) -> tuple[list[tuple[str, str]], dict[str, str]]:
        """Each channel entry's store (in the file or at HQ) and its channel database's
        alias, which must be configured; and each store's legal entity code."""
        store_databases = dict(self.stores)
        store_entities = dict(self.store_entities)
        wanted = {store for store, _ in self.entries} - set(store_databases)
        found = rows(
            Store.objects,
            "number",
            wanted,
            "number",
            "channel_database__name",
            "legal_entity__code",
        )
        for number, database, legal_entity in found:
            store_databases[number] = database
            store_entities[number] = legal_entity
        entries = []
        for store, path in self.entries:
            if store not in store_databases:
                raise unknown(path, "store", store)
            database = store_databases[store]
            alias = databases[database]
            if not is_channel_alias(alias):
                raise invalid(
                    path,
                    f'store\'s channel database "{database}" has alias "{alias}", '
                    "which is not configured",
                    store,
                )
            entries.append((store, alias))
        return entries, store_entities

    def _check_edit_customers(
        self,
        entries: list[tuple[str, str]],
        store_entities: dict[str, str],
        databases: dict[str, str],
    ) -> None:
        """R11: an edit's customer is an async customer of its store's channel database
        (in the file or the database) or an account of the store's legal entity (in the
        file's customers or at HQ). A few queries per channel database, in chunks."""
        if not self.edit_refs:
            return
        file_accounts = self.seen.get("customer account", set())
        guids: dict[str, set[int]] = {}  # alias -> GUIDs not in the file
        accounts: set[tuple[str, str]] = set()
        for (entry, key), _path in self.edit_refs.items():
            store, alias = entries[entry]
            if isinstance(key, int):
                other = self.async_customer_entries.get(key)
                if other is None or entries[other][1] != alias:
                    guids.setdefault(alias, set()).add(key)
            elif (store_entities[store], key) not in file_accounts:
                accounts.add((store_entities[store], key))
        found_guids = {
            alias: {
                guid.int
                for (guid,) in rows(
                    AsyncCustomer.objects.using(alias),
                    "async_customer_id",
                    [uuid.UUID(int=key) for key in keys],
                    "async_customer_id",
                )
            }
            for alias, keys in guids.items()
        }
        found_accounts = hq_accounts(accounts)
        names = {alias: name for name, alias in databases.items()}
        for (entry, key), path in self.edit_refs.items():  # in file order
            store, alias = entries[entry]
            if isinstance(key, int):
                if key in guids.get(alias, ()) and key not in found_guids[alias]:
                    raise unknown(
                        path,
                        f'async customer of channel database "{names.get(alias, alias)}"',
                        str(uuid.UUID(int=key)),
                    )
            elif (store_entities[store], key) in accounts and (
                store_entities[store],
                key,
            ) not in found_accounts:
                raise unknown(path, f"customer of legal entity {store_entities[store]}", key)

    def _check_account_lengths(self) -> None:
        """A legal entity's accounts (prefix and digits) fit ACCOUNT_MAX_LENGTH, the one
        length every table holding an account has."""
        stored = {
            code: (prefix, digits)
            for code, prefix, digits in rows(
                NumberSequence.objects,
                "legal_entity__code",
                {rec["code"] for rec in self.legal_entities},
                "legal_entity__code",
                "prefix",
                "digits",
            )
        }
        default_prefix = NumberSequence._meta.get_field("prefix").default
        default_digits = NumberSequence._meta.get_field("digits").default
        for rec in self.legal_entities:
            prefix, digits = stored.get(rec["code"], (default_prefix, default_digits))
            prefix = rec.get("customer_account_prefix", prefix)
            digits = rec.get("customer_account_digits", digits)
            if len(prefix) + digits > ACCOUNT_MAX_LENGTH:
                name = (
                    "customer_account_digits"
                    if "customer_account_digits" in rec.values
                    else "customer_account_prefix"
                )
                raise invalid(
                    rec.at(name),
                    f'accounts of prefix "{prefix}" and {digits} digits would be '
                    f"{len(prefix) + digits} characters, more than {ACCOUNT_MAX_LENGTH}",
                    rec[name],
                )
