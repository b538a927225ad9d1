"""R16 reference data at the store: what a channel database holds of HQ's setup, so a
store validates (R1) and fills defaults (R2) from its own database, with HQ down.

Written only by distribution (1010, ``customers.services.reference``): the customer
groups of each legal entity the channel database serves, the customer attributes
(type, choices) and affiliations, and each of its stores' default customer (the
values R2 copies). ``ChannelReferenceVersion`` is the version (the checksum of the
whole set) the channel database holds, so applying the same set again writes nothing.
"""

from django.db import models

from commerce.db import ChannelModel
from commerce.models import ACCOUNT_MAX_LENGTH


class ChannelCustomerGroup(ChannelModel):
    legal_entity = models.CharField(max_length=10)
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        db_table = "channel_customer_group"
        ordering = ["legal_entity", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["legal_entity", "code"], name="channel_customer_group_unique"
            ),
        ]

    def __str__(self):
        return f"{self.code} ({self.legal_entity})"


class ChannelCustomerAttribute(ChannelModel):
    name = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=10)
    choices = models.JSONField(default=list, blank=True)

    class Meta:
        db_table = "channel_customer_attribute_setup"
        ordering = ["name"]

    def __str__(self):
        return self.name


class ChannelAffiliation(ChannelModel):
    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        db_table = "channel_affiliation"
        ordering = ["name"]

    def __str__(self):
        return self.name


class ChannelStoreDefaults(ChannelModel):
    """A store's default customer as R2 copies it (and its country, which reads a phone
    number typed at the store)."""

    store_number = models.CharField(max_length=20, unique=True)
    legal_entity = models.CharField(max_length=10)
    account = models.CharField(max_length=ACCOUNT_MAX_LENGTH)
    type = models.CharField(max_length=12)
    customer_group = models.CharField(max_length=20, blank=True, default="")
    currency = models.CharField(max_length=3, blank=True, default="")
    language = models.CharField(max_length=10, blank=True, default="")
    title = models.CharField(max_length=50, blank=True, default="")
    country = models.CharField(max_length=3, blank=True, default="")
    attributes = models.JSONField(default=dict, blank=True)
    affiliations = models.JSONField(default=list, blank=True)

    class Meta:
        db_table = "channel_store_defaults"
        ordering = ["store_number"]
        verbose_name_plural = "channel store defaults"

    def __str__(self):
        return f"{self.store_number}: {self.account}"


class ChannelReferenceVersion(ChannelModel):
    """The reference data version this channel database holds (one row)."""

    key = models.CharField(max_length=20, unique=True, default="reference_data")
    checksum = models.CharField(max_length=64)
    applied_at = models.DateTimeField()

    class Meta:
        db_table = "channel_reference_version"

    def __str__(self):
        return self.checksum[:12]
