"""The reference data validation asks (R5, R16): HQ's own tables
(``ReferenceData``) or a store's copy in its channel database (``StoreReferenceData``),
with the store's defaults (R2, ``CustomerDefaults``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from commerce.models import LegalEntity
from customers.models import Affiliation, CustomerAttribute, CustomerGroup


@dataclass
class ReferenceData:
    """Setup rows that validation needs, loaded once per batch (no per-row queries): HQ's
    own tables. The validators ask any reference data the same three questions
    (``group_known``, ``attribute``, ``affiliation_known``), so the store asks its own
    channel database's copy (``StoreReferenceData``, R16) and HQ its tables."""

    groups: dict[tuple[int, str], CustomerGroup]
    attributes: dict[str, CustomerAttribute]
    affiliations: dict[str, Affiliation]
    # The country (alpha-3) a phone number without a country code is read in; HQ does
    # not know where a number was typed, so it does not read phone numbers (None).
    phone_country: str | None = None

    @classmethod
    def load(cls) -> ReferenceData:
        return cls(
            groups={(g.legal_entity_id, g.code): g for g in CustomerGroup.objects.all()},
            attributes={a.name: a for a in CustomerAttribute.objects.all()},
            affiliations={a.name: a for a in Affiliation.objects.all()},
        )

    def group_known(self, legal_entity: LegalEntity, code: Any) -> bool:
        return (legal_entity.pk, code) in self.groups

    def attribute(self, name: str):
        """The attribute's setup (``type``, ``choices``), or None when unknown."""
        return self.attributes.get(name)

    def affiliation_known(self, name: str) -> bool:
        return name in self.affiliations


@dataclass(frozen=True)
class AttributeSetup:
    name: str
    type: str
    choices: list = field(default_factory=list)


@dataclass(frozen=True)
class CustomerDefaults:
    """R2: what a new customer takes from its store's default customer."""

    type: str = ""
    customer_group: str = ""
    currency: str = ""
    language: str = ""
    title: str = ""
    affiliations: tuple[str, ...] = ()
    country: str = ""  # the default customer's (primary) address country, alpha-3


@dataclass
class StoreReferenceData:
    """R16: the reference data a store validates against (R1) and takes its defaults
    from (R2), read from its own channel database (``customers.selectors.reference``),
    so it needs no HQ. The same questions as ``ReferenceData``."""

    legal_entity: str  # the store's legal entity code
    groups: frozenset[str]  # the customer group codes of that legal entity
    attributes: dict[str, AttributeSetup]
    affiliations: frozenset[str]
    defaults: CustomerDefaults

    @property
    def phone_country(self) -> str | None:
        return self.defaults.country or None

    def group_known(self, legal_entity: LegalEntity, code: Any) -> bool:
        return legal_entity.code == self.legal_entity and code in self.groups

    def attribute(self, name: str):
        return self.attributes.get(name)

    def affiliation_known(self, name: str) -> bool:
        return name in self.affiliations
