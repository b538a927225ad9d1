"""Loading the demo: only what is missing, through the import service, and the
development superuser admin/admin; both refused in production."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models, transaction

from commerce.db import HQ
from commerce.models import ChannelDatabase, FunctionalityProfile, LegalEntity, Store
from customers.importing import ImportReport, data_import
from customers.models import Affiliation, Customer, CustomerAttribute, CustomerGroup
from customers.services.duplicates import customer_match_keys_refresh
from devtools.demo.payload import demo_payload

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin"

# Setup sections of the payload: the model, its key lookups at HQ and the record's
# fields holding the same key.
SETUP_KEYS: dict[str, tuple[type[models.Model], tuple[str, ...], tuple[str, ...]]] = {
    "legal_entities": (LegalEntity, ("code",), ("code",)),
    "customer_groups": (CustomerGroup, ("legal_entity__code", "code"), ("legal_entity", "code")),
    "customer_attributes": (CustomerAttribute, ("name",), ("name",)),
    "affiliations": (Affiliation, ("name",), ("name",)),
    "functionality_profiles": (FunctionalityProfile, ("code",), ("code",)),
    "channel_databases": (ChannelDatabase, ("name",), ("name",)),
    "customers": (Customer, ("legal_entity__code", "account"), ("legal_entity", "account")),
    "stores": (Store, ("number",), ("number",)),
}


def _missing_only(payload: dict) -> tuple[dict, dict[str, list[str]]]:
    """The payload without the setup records HQ already has, and those records' keys.

    The import upserts setup records; the demo must not, or each ``serve`` would undo
    what HQ changed since (an address made primary by the conversion, R6, would move
    back without a new version, so HQ and the stores would disagree).
    """
    missing = dict(payload)
    existing: dict[str, list[str]] = {}
    for section, (model, lookups, fields) in SETUP_KEYS.items():
        records = payload[section]
        wanted = {record[fields[-1]] for record in records}
        found = set(model.objects.filter(**{f"{lookups[-1]}__in": wanted}).values_list(*lookups))
        missing[section] = []
        for record in records:
            key = tuple(record[name] for name in fields)
            if key in found:
                existing.setdefault(section, []).append("/".join(key))
            else:
                missing[section].append(record)
    return missing, existing


def _match_keys_refresh(customers: list[dict]) -> None:
    """R12 keys of the HQ customers this run imported (the import writes them in bulk,
    without keys), so the demo's possible duplicates are found."""
    if not customers:
        return
    wanted = models.Q()
    for record in customers:
        wanted |= models.Q(legal_entity__code=record["legal_entity"], account=record["account"])
    customer_match_keys_refresh(
        customer_ids=Customer.objects.filter(wanted).values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class DemoReport:
    imported: ImportReport  # setup records already at HQ are counted as skipped
    admin_created: bool


class DemoRefused(Exception):
    """The demo was asked for with ENVIRONMENT=production."""


def demo_refuse_in_production() -> None:
    """Raise DemoRefused in production: the demo's superuser has a published password,
    and its made-up customers and stores must not mix with real ones."""
    if settings.PRODUCTION:
        raise DemoRefused(
            "ENVIRONMENT=production: the demo organization and its admin/admin user are "
            "for development only; create an administrator with manage.py createsuperuser"
        )


def admin_user_ensure() -> bool:
    """Create the development superuser admin/admin unless a user ``admin`` exists.

    An existing ``admin`` is left as it is (its password may have been changed on
    purpose). Returns whether it was created. Development only: refused in production
    (DemoRefused).
    """
    demo_refuse_in_production()
    User = get_user_model()
    with transaction.atomic(using=HQ):
        if User.objects.filter(username=ADMIN_USERNAME).exists():
            return False
        User.objects.create_superuser(
            username=ADMIN_USERNAME, email="admin@example.com", password=ADMIN_PASSWORD
        )
    return True


def demo_setup() -> DemoReport:
    """Create what is missing of the demo organization and the admin user; leaves
    existing records as they are. Safe to re-run: a second run changes nothing.
    Refused in production (DemoRefused) before anything is written."""
    demo_refuse_in_production()
    payload, existing = _missing_only(demo_payload())
    report = ImportReport()
    for section, keys in existing.items():
        for key in keys:
            report.skip(section, key)
    imported = data_import(payload=payload)
    _match_keys_refresh(payload["customers"])
    for section, counts in imported.counts.items():
        merged = report.section(section)
        merged.created += counts.created
        merged.updated += counts.updated
        merged.unchanged += counts.unchanged
        merged.skipped += counts.skipped
    for section, keys in imported.skipped_ids.items():
        report.skipped_ids.setdefault(section, []).extend(keys)
    return DemoReport(imported=report, admin_created=admin_user_ensure())
