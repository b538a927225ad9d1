"""Customer master (HQ), channel customer records, and HQ staging of async customers.

Three groups, three homes:
- HQ master data (``default``): party, customer, address, contact info, attribute
  values, affiliations, and the setup they refer to (groups, attributes, affiliations).
- Channel records (each channel database, ``channel_*`` tables): the store's copy of
  synchronous customers, async customers and async addresses.
- HQ staging (``default``): what the upload (P-0001) brought from the channels.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from commerce.db import ChannelModel
from commerce.models import ACCOUNT_MAX_LENGTH


class CustomerType(models.TextChoices):
    PERSON = "person", "Person"
    ORGANIZATION = "organization", "Organization"


class AddressPurpose(models.TextChoices):
    DELIVERY = "delivery", "Delivery"
    INVOICE = "invoice", "Invoice"
    BUSINESS = "business", "Business"
    HOME = "home", "Home"
    OTHER = "other", "Other"


class ContactType(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    URL = "url", "URL"


class AttributeType(models.TextChoices):
    BOOLEAN = "boolean", "Boolean"
    TEXT = "text", "Text"
    INTEGER = "integer", "Integer"
    DECIMAL = "decimal", "Decimal"
    DATE = "date", "Date"
    CHOICE = "choice", "Choice"


class StagingStatus(models.TextChoices):
    # Labelled as the status pages name the record's state (README "Statuses"), so a
    # status has one name on every page: pending in staging is "uploaded", completed
    # is "created" at HQ.
    PENDING = "pending", "Uploaded"
    COMPLETED = "completed", "Created at HQ"
    FAILED = "failed", "Failed"
    # R12: a possible duplicate under the legal entity's "review" policy, waiting for a
    # person to link it to an existing account or create a new one.
    NEEDS_REVIEW = "needs_review", "Needs review"


class ReviewDecision(models.TextChoices):
    LINKED = "linked", "Linked to an existing account"
    CREATED = "created", "New account created"


# Longest normalized name-and-zip key: a party name, "|", a zip code.
MATCH_NAME_ZIP_MAX_LENGTH = 200 + 1 + 20


def attribute_value_text(value) -> str:
    """An attribute value as a page says it (no JSON): text as is, yes/no, a number."""
    if value is None:
        return "(no value)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def display_name(*, type, first_name="", last_name="", organization_name="") -> str:
    if type == CustomerType.ORGANIZATION:
        return (organization_name or "").strip()
    return " ".join(p for p in [(first_name or "").strip(), (last_name or "").strip()] if p)


# --- HQ setup ------------------------------------------------------------------


class CustomerGroup(models.Model):
    legal_entity = models.ForeignKey(
        "commerce.LegalEntity", on_delete=models.PROTECT, related_name="customer_groups"
    )
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["legal_entity__code", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["legal_entity", "code"], name="customer_group_unique_code"
            ),
        ]

    def __str__(self):
        return f"{self.code} ({self.legal_entity_id and self.legal_entity.code})"


class CustomerAttribute(models.Model):
    name = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=10, choices=AttributeType.choices)
    choices = models.JSONField(default=list, blank=True, help_text="Allowed values, for choice.")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=AttributeType.values), name="customer_attribute_type_valid"
            ),
        ]

    def __str__(self):
        return self.name


class Affiliation(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


# --- HQ customer master -----------------------------------------------------------


class Party(models.Model):
    type = models.CharField(max_length=12, choices=CustomerType.choices)
    name = models.CharField(max_length=200, db_index=True)
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    organization_name = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "parties"
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=CustomerType.values), name="party_type_valid"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="party_name_not_empty"),
        ]

    def __str__(self):
        return self.name


class Customer(models.Model):
    legal_entity = models.ForeignKey(
        "commerce.LegalEntity", on_delete=models.PROTECT, related_name="customers"
    )
    account = models.CharField(max_length=ACCOUNT_MAX_LENGTH)
    party = models.OneToOneField(Party, on_delete=models.PROTECT, related_name="customer")
    customer_group = models.ForeignKey(
        CustomerGroup, on_delete=models.PROTECT, related_name="customers"
    )
    currency = models.CharField(max_length=3)
    language = models.CharField(max_length=10, blank=True, default="")
    title = models.CharField(max_length=50, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    phone = models.CharField(max_length=40, blank=True, default="")
    async_customer_id = models.UUIDField(
        null=True, blank=True, help_text="The store's temporary GUID, for converted customers."
    )
    async_origin = models.CharField(
        max_length=50,
        blank=True,
        default="",
        help_text="The channel database the async GUID came from (a GUID is only trusted there).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)
    version = models.PositiveBigIntegerField(
        default=1, help_text="Raised on every change; distribution (1010) sends newer versions."
    )
    field_changed_at = models.JSONField(
        default=dict,
        blank=True,
        help_text="When each field was last changed (at HQ, or at a store by a channel request), "
        "so that per field the latest change wins (R11).",
    )
    # R12 match keys (customers.match_keys), kept current by the services that write the
    # email, phone, name or primary address; "" when there is nothing to match on.
    match_email = models.CharField(max_length=254, blank=True, default="", editable=False)
    match_phone = models.CharField(max_length=20, blank=True, default="", editable=False)
    match_name_zip = models.CharField(
        max_length=MATCH_NAME_ZIP_MAX_LENGTH, blank=True, default="", editable=False
    )
    # R13: a merged account stays as an alias of its survivor (one hop: a survivor is
    # never merged itself while it has aliases, customers.services.merge repoints them).
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="merged_aliases",
        help_text="The account this one was merged into; it resolves to that account.",
    )
    merged_at = models.DateTimeField(null=True, blank=True, editable=False)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    merger = models.CharField(
        max_length=150,
        blank=True,
        default="",
        editable=False,
        help_text="Who merged it, as recorded then (the user name, or the command line's user).",
    )
    # R14 (README, Erasure and access): when the person was erased, and by whom.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["legal_entity__code", "account"]
        permissions = [("erase_customer", "Can erase a customer's personal data")]
        # R12: duplicate detection looks customers up by key within a legal entity, one
        # IN query per key kind and batch.
        indexes = [
            models.Index(fields=["legal_entity", "match_email"], name="customer_match_email_idx"),
            models.Index(fields=["legal_entity", "match_phone"], name="customer_match_phone_idx"),
            models.Index(
                fields=["legal_entity", "match_name_zip"], name="customer_match_name_zip_idx"
            ),
            # 1010's window (customers.selectors.payloads.versions_to_distribute): the
            # customers of a legal entity in a range of pk, read from the index alone.
            # Without it PostgreSQL read every customer of the legal entity for each
            # window (README "Performance", a million customers).
            models.Index(fields=["legal_entity", "id"], name="customer_entity_pk_idx"),
            # A triggered 1010 run's customers changed since the last complete run
            # (jobs.distribution): read from the index, however many customers there are.
            models.Index(fields=["modified_at"], name="customer_modified_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["legal_entity", "account"], name="customer_unique_account"
            ),
            # One HQ customer per async GUID, ever: this, not a check in Python,
            # is what holds with several workers creating at once.
            models.UniqueConstraint(fields=["async_customer_id"], name="customer_unique_async_id"),
            models.CheckConstraint(condition=~Q(account=""), name="customer_account_not_empty"),
            models.CheckConstraint(
                condition=~Q(merged_into=F("id")), name="customer_not_merged_into_itself"
            ),
        ]

    def __str__(self):
        return self.account


class Address(models.Model):
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="addresses")
    location_id = models.CharField(max_length=60, unique=True)
    purpose = models.CharField(max_length=10, choices=AddressPurpose.choices)
    street = models.CharField(max_length=250)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=60, blank=True, default="")
    zip = models.CharField(max_length=20)
    country = models.CharField(max_length=3, help_text="ISO 3166-1 alpha-3")
    is_primary = models.BooleanField(default=False)
    async_address_id = models.UUIDField(null=True, blank=True)
    async_origin = models.CharField(
        max_length=50,
        blank=True,
        default="",
        help_text="The channel database the async GUID came from.",
    )

    class Meta:
        ordering = ["location_id"]
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["party"], condition=Q(is_primary=True), name="address_one_primary_per_party"
            ),
            models.UniqueConstraint(fields=["async_address_id"], name="address_unique_async_id"),
        ]

    def __str__(self):
        return f"{self.location_id}: {self.street}, {self.city}"


class ContactInfo(models.Model):
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="contacts")
    type = models.CharField(max_length=10, choices=ContactType.choices)
    value = models.CharField(max_length=254)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["party_id", "type", "value"]
        verbose_name_plural = "contact info"
        constraints = [
            models.UniqueConstraint(
                fields=["party", "type", "value"], name="contact_info_unique_value"
            ),
        ]

    def __str__(self):
        return f"{self.type}: {self.value}"


class CustomerAttributeValue(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="attribute_values"
    )
    attribute = models.ForeignKey(
        CustomerAttribute, on_delete=models.PROTECT, related_name="values"
    )
    value = models.JSONField()

    class Meta:
        ordering = ["customer_id", "attribute__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "attribute"], name="customer_attribute_value_unique"
            ),
        ]

    def __str__(self):
        if not self.attribute_id:
            return "new attribute value"
        return f"{self.attribute.name}: {attribute_value_text(self.value)}"


class CustomerAffiliation(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="affiliations")
    affiliation = models.ForeignKey(Affiliation, on_delete=models.PROTECT, related_name="members")

    class Meta:
        ordering = ["customer_id", "affiliation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "affiliation"], name="customer_affiliation_unique"
            ),
        ]

    def __str__(self):
        # An inline row's title on the customer's page: the affiliation by name.
        if not (self.customer_id and self.affiliation_id):
            return "new affiliation"
        return f"{self.affiliation.name} ({self.customer.account})"


class AsyncCustomerLink(models.Model):
    """R12: an async customer a person linked to an existing account instead of creating
    one. The account keeps its own async GUID (if any); this maps the store's GUID to it,
    and only in the channel database that made the GUID (R7)."""

    async_customer_id = models.UUIDField()
    channel_database = models.CharField(max_length=50)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="async_links")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    linker = models.CharField(max_length=150, blank=True, default="")
    linked_at = models.DateTimeField()

    class Meta:
        ordering = ["-linked_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel_database", "async_customer_id"],
                name="async_customer_link_unique_per_channel",
            ),
        ]

    def __str__(self):
        return f"{self.async_customer_id} ({self.channel_database})"


class PossibleDuplicate(models.Model):
    """R12, policy "create": an account created although it looked like an existing one
    (or like another one of the same run), listed for a person to compare."""

    legal_entity = models.ForeignKey(
        "commerce.LegalEntity", on_delete=models.PROTECT, related_name="possible_duplicates"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="possible_duplicates"
    )
    duplicate_of = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    reasons = models.JSONField(
        default=dict, help_text='Match key kind to the key both share, e.g. {"email": "…"}.'
    )
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "duplicate_of"], name="possible_duplicate_unique_pair"
            ),
            models.CheckConstraint(
                condition=~Q(customer=models.F("duplicate_of")),
                name="possible_duplicate_not_itself",
            ),
        ]

    def __str__(self):
        """'Ingrid Sørensen (C000123) may be the same as Ingrid Sørensen (C000045)'."""
        if not (self.customer_id and self.duplicate_of_id):
            return "possible duplicate"
        new = f"{self.customer.party.name} ({self.customer.account})"
        old = f"{self.duplicate_of.party.name} ({self.duplicate_of.account})"
        return f"{new} may be the same as {old}"


# --- Channel records (one set per channel database) -------------------------------


ADDRESS_FIELDS = ("purpose", "street", "city", "state", "zip", "country", "is_primary")
# An HQ address as account creation writes it and 1010 sends it, in this order.
HQ_ADDRESS_FIELDS = ("location_id", *ADDRESS_FIELDS, "async_address_id", "async_origin")


def address_values(source) -> dict:
    """The address fields every address row shares (channel, staging, HQ, inputs)."""
    return {name: getattr(source, name) for name in ADDRESS_FIELDS}


def location_id_for(async_address_id: uuid.UUID | None) -> str:
    """Location ids of converted addresses derive from their GUID, so a re-run agrees.
    All 32 hex digits: GUIDs a store numbers in sequence share long prefixes."""
    source = async_address_id or uuid.uuid4()
    return f"LOC-{source.hex.upper()}"


class AddressFields(models.Model):
    purpose = models.CharField(max_length=10, choices=AddressPurpose.choices)
    street = models.CharField(max_length=250)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=60, blank=True, default="")
    zip = models.CharField(max_length=20)
    country = models.CharField(max_length=3)
    is_primary = models.BooleanField(default=False)

    class Meta:
        abstract = True


class ChannelCustomer(ChannelModel):
    """A synchronous customer as the store knows it (written by R1 real time or 1010)."""

    legal_entity = models.CharField(max_length=10)
    account = models.CharField(max_length=ACCOUNT_MAX_LENGTH)
    type = models.CharField(max_length=12, choices=CustomerType.choices)
    name = models.CharField(max_length=200, db_index=True)
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    organization_name = models.CharField(max_length=200, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    phone = models.CharField(max_length=40, blank=True, default="")
    customer_group = models.CharField(max_length=20, blank=True, default="")
    currency = models.CharField(max_length=3, blank=True, default="")
    language = models.CharField(max_length=10, blank=True, default="")
    async_customer_id = models.UUIDField(null=True, blank=True, db_index=True)
    hq_version = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "channel_customer"
        ordering = ["legal_entity", "account"]
        constraints = [
            models.UniqueConstraint(
                fields=["legal_entity", "account"], name="channel_customer_unique_account"
            ),
        ]

    def __str__(self):
        return self.account


class ChannelCustomerAddress(ChannelModel, AddressFields):
    customer = models.ForeignKey(
        ChannelCustomer, on_delete=models.CASCADE, related_name="addresses"
    )
    location_id = models.CharField(max_length=60, unique=True)
    async_address_id = models.UUIDField(null=True, blank=True, db_index=True)

    class Meta:
        db_table = "channel_customer_address"
        ordering = ["location_id"]
        verbose_name_plural = "channel customer addresses"

    def __str__(self):
        return self.location_id


class ChannelCustomerAsyncLink(ChannelModel):
    """R12 at the store: an async GUID of this channel database that HQ linked to an
    existing account (written by 1010 from the payload's ``linked_async_ids``)."""

    customer = models.ForeignKey(
        ChannelCustomer, on_delete=models.CASCADE, related_name="async_links"
    )
    async_customer_id = models.UUIDField(unique=True)
    account = models.CharField(max_length=ACCOUNT_MAX_LENGTH)

    class Meta:
        db_table = "channel_customer_async_link"
        ordering = ["customer_id", "id"]

    def __str__(self):
        return f"{self.async_customer_id} -> {self.account}"


class AsyncCustomer(ChannelModel):
    """A customer created at a store without HQ: a GUID, no account number yet."""

    async_customer_id = models.UUIDField(unique=True)
    store_number = models.CharField(max_length=20, db_index=True)
    type = models.CharField(
        max_length=12, choices=CustomerType.choices, default=CustomerType.PERSON
    )
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    organization_name = models.CharField(max_length=200, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    phone = models.CharField(max_length=40, blank=True, default="")
    customer_group = models.CharField(max_length=20, blank=True, default="")
    currency = models.CharField(max_length=3, blank=True, default="")
    language = models.CharField(max_length=10, blank=True, default="")
    title = models.CharField(max_length=50, blank=True, default="")
    created_at = models.DateTimeField()
    upload_session_id = models.BigIntegerField(null=True, blank=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)
    account = models.CharField(
        max_length=ACCOUNT_MAX_LENGTH,
        null=True,
        blank=True,
        help_text="Set when distribution (1010) links it.",
    )
    synchronized_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "channel_async_customer"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["upload_session_id", "id"], name="channel_async_cust_upload_idx"),
            # The status page counts and ages the records not linked yet from this small
            # index, whatever the number of synchronized ones (README "Performance").
            models.Index(
                fields=["store_number", "created_at", "upload_session_id"],
                condition=Q(account__isnull=True),
                name="channel_async_cust_unlink_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=CustomerType.values), name="channel_async_customer_type_valid"
            ),
        ]

    def __str__(self):
        # A page's title: the name the store typed, and the GUID it is known by.
        return f"{self.name or '(no name)'} ({self.async_customer_id})"

    @property
    def name(self) -> str:
        return display_name(
            type=self.type,
            first_name=self.first_name,
            last_name=self.last_name,
            organization_name=self.organization_name,
        )

    @property
    def store_status(self) -> str:
        return "Synchronized" if self.account else "Pending sync"


class AsyncCustomerAddress(ChannelModel, AddressFields):
    async_customer = models.ForeignKey(
        AsyncCustomer, on_delete=models.CASCADE, related_name="addresses"
    )
    async_address_id = models.UUIDField(unique=True)
    location_id = models.CharField(max_length=60, null=True, blank=True)

    class Meta:
        db_table = "channel_async_customer_address"
        ordering = ["async_customer_id", "id"]
        verbose_name_plural = "async customer addresses"

    def __str__(self):
        return str(self.async_address_id)


class AsyncCustomerContact(ChannelModel):
    async_customer = models.ForeignKey(
        AsyncCustomer, on_delete=models.CASCADE, related_name="contacts"
    )
    type = models.CharField(max_length=10, choices=ContactType.choices)
    value = models.CharField(max_length=254)
    is_primary = models.BooleanField(default=False)

    class Meta:
        db_table = "channel_async_customer_contact"
        ordering = ["async_customer_id", "id"]

    def __str__(self):
        return f"{self.type}: {self.value}"


class AsyncCustomerAttributeValue(ChannelModel):
    async_customer = models.ForeignKey(
        AsyncCustomer, on_delete=models.CASCADE, related_name="attribute_values"
    )
    name = models.CharField(max_length=100)
    value = models.JSONField(null=True)

    class Meta:
        db_table = "channel_async_customer_attribute"
        ordering = ["async_customer_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["async_customer", "name"], name="channel_async_attribute_unique"
            ),
        ]

    def __str__(self):
        return f"{self.name}: {attribute_value_text(self.value)}"


class AsyncCustomerAffiliation(ChannelModel):
    async_customer = models.ForeignKey(
        AsyncCustomer, on_delete=models.CASCADE, related_name="affiliations"
    )
    name = models.CharField(max_length=100)

    class Meta:
        db_table = "channel_async_customer_affiliation"
        ordering = ["async_customer_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["async_customer", "name"], name="channel_async_affiliation_unique"
            ),
        ]

    def __str__(self):
        return self.name


class AsyncAddress(ChannelModel, AddressFields):
    """An address a store created for an existing (synchronous) customer."""

    async_address_id = models.UUIDField(unique=True)
    store_number = models.CharField(max_length=20, db_index=True)
    customer_account = models.CharField(max_length=ACCOUNT_MAX_LENGTH)
    created_at = models.DateTimeField()
    upload_session_id = models.BigIntegerField(null=True, blank=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)
    location_id = models.CharField(max_length=60, null=True, blank=True)
    synchronized_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "channel_async_address"
        ordering = ["created_at", "id"]
        verbose_name_plural = "async addresses"
        indexes = [
            models.Index(fields=["upload_session_id", "id"], name="channel_async_addr_upload_idx"),
            models.Index(  # as channel_async_cust_unlink_idx (status page counts)
                fields=["store_number", "created_at", "upload_session_id"],
                condition=Q(location_id__isnull=True),
                name="channel_async_addr_unlink_idx",
            ),
        ]

    def __str__(self):
        return str(self.async_address_id)


class ChannelRequest(ChannelModel):
    """A store's change to a customer that must reach HQ (R11): made at an async (or
    offline) store to an async customer already uploaded, or to a synchronous
    customer's copy. Uploaded by P-0001 like async customers, applied by "Synchronize
    customers and channel requests"."""

    request_id = models.UUIDField(unique=True)
    store_number = models.CharField(max_length=20, db_index=True)
    target_async_customer_id = models.UUIDField(null=True, blank=True, db_index=True)
    target_account = models.CharField(max_length=ACCOUNT_MAX_LENGTH, blank=True, default="")
    edited_at = models.DateTimeField()
    changes = models.JSONField(
        default=dict,
        help_text='{"fields": {...}, "attributes": {...}, "affiliations": [...], '
        '"addresses": [{"async_address_id": ..., "purpose": ..., ...}]}',
    )
    upload_session_id = models.BigIntegerField(null=True, blank=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "channel_customer_request"
        ordering = ["edited_at", "id"]
        indexes = [
            models.Index(fields=["upload_session_id", "id"], name="channel_request_upload_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(target_async_customer_id__isnull=False, target_account="")
                    | (Q(target_async_customer_id__isnull=True) & ~Q(target_account=""))
                ),
                name="channel_request_one_target",
            ),
        ]

    def __str__(self):
        return str(self.request_id)

    @property
    def target(self) -> str:
        return self.target_account or str(self.target_async_customer_id)


# --- HQ staging (what P-0001 brought) ----------------------------------------------


class StagingFields(models.Model):
    channel_database = models.CharField(max_length=50, db_index=True)
    store_number = models.CharField(max_length=20, db_index=True)
    upload_session = models.ForeignKey(
        "jobs.UploadSession", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=20, choices=StagingStatus.choices, default=StagingStatus.PENDING, db_index=True
    )
    last_error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    staged_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # The last fix a person saved on a failed record (R5), kept for its timeline: while
    # the record is still failed and the fix is newer than the last processing, it is
    # "fixed, not sent" (FIXED_NOT_SENT below).
    fixed_at = models.DateTimeField(null=True, blank=True)
    fixed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        abstract = True

    @property
    def fixed_not_sent(self) -> bool:
        """FIXED_NOT_SENT for this record."""
        return (
            self.status == StagingStatus.FAILED
            and self.fixed_at is not None
            and (self.processed_at is None or self.fixed_at > self.processed_at)
        )


# "Fixed, not sent": a person saved a fix of a failed staged record after HQ last
# processed it, and nobody has synchronized it again yet (that makes it pending; if it
# fails again, processed_at passes fixed_at). For any StagingFields model.
FIXED_NOT_SENT = Q(status=StagingStatus.FAILED, fixed_at__isnull=False) & (
    Q(processed_at__isnull=True) | Q(fixed_at__gt=F("processed_at"))
)


def staged_status_indexes(kind: str) -> list[models.Index]:
    """A staged record's indexes by status: the lists' (status, pk), and the pending rows
    alone in key order. Account creation claims pending rows in key order; through this
    partial index a claim reads 5,000 entries however many rows are done (through the
    primary key it passed every done row first; README "Performance")."""
    return [
        models.Index(fields=["status", "id"], name=f"staged_{kind}_status_idx"),
        models.Index(
            fields=["id"],
            condition=Q(status=StagingStatus.PENDING),
            name=f"staged_{kind}_pending_idx",
        ),
    ]


class StagedAsyncCustomer(StagingFields):
    """An async customer as the upload brought it. Keyed by (channel database, GUID): a
    GUID is unique within the channel database that made it, so the same GUID from a
    second channel database is a separate record that fails by name, never a merge."""

    async_customer_id = models.UUIDField(db_index=True)
    type = models.CharField(max_length=12, choices=CustomerType.choices)
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    organization_name = models.CharField(max_length=200, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    phone = models.CharField(max_length=40, blank=True, default="")
    customer_group = models.CharField(max_length=20, blank=True, default="")
    currency = models.CharField(max_length=3, blank=True, default="")
    language = models.CharField(max_length=10, blank=True, default="")
    title = models.CharField(max_length=50, blank=True, default="")
    created_at_store = models.DateTimeField()
    account = models.CharField(max_length=ACCOUNT_MAX_LENGTH, blank=True, default="")
    # R12: who resolved a possible duplicate, when, and how.
    review_decision = models.CharField(
        max_length=10, choices=ReviewDecision.choices, blank=True, default=""
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewer = models.CharField(
        max_length=150,
        blank=True,
        default="",
        help_text="Who decided, as recorded then (the user name, or the command line's user).",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # A GUID another channel database made first: a person had the record created under
    # a new GUID (``async_customer_id`` now); the store's GUID stays linked to the
    # account through an AsyncCustomerLink (customers.services.guid_collisions).
    replaced_async_customer_id = models.UUIDField(
        null=True,
        blank=True,
        db_index=True,
        help_text="The GUID the store made, which another channel database had made first.",
    )
    guid_replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    guid_replaced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "staged async customer"
        indexes = staged_status_indexes("customer")
        constraints = [
            models.UniqueConstraint(
                fields=["channel_database", "async_customer_id"],
                name="staged_customer_unique_per_channel",
            ),
        ]

    def __str__(self):
        return f"{self.name or '(no name)'} ({self.async_customer_id})"

    @property
    def name(self) -> str:
        return display_name(
            type=self.type,
            first_name=self.first_name,
            last_name=self.last_name,
            organization_name=self.organization_name,
        )


class StagedAsyncCustomerAddress(AddressFields):
    staged_customer = models.ForeignKey(
        StagedAsyncCustomer, on_delete=models.CASCADE, related_name="addresses"
    )
    # Unique with its parent's channel database (the channel enforces it); not across
    # channel databases, where a repeated GUID fails at account creation by name.
    async_address_id = models.UUIDField(db_index=True)
    location_id = models.CharField(max_length=60, blank=True, default="")

    class Meta:
        ordering = ["staged_customer_id", "id"]
        verbose_name_plural = "staged async customer addresses"

    def __str__(self):
        return str(self.async_address_id)


class StagedAsyncCustomerContact(models.Model):
    staged_customer = models.ForeignKey(
        StagedAsyncCustomer, on_delete=models.CASCADE, related_name="contacts"
    )
    type = models.CharField(max_length=10, choices=ContactType.choices)
    value = models.CharField(max_length=254)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["staged_customer_id", "id"]

    def __str__(self):
        return f"{self.type}: {self.value}"


class StagedAsyncCustomerAttributeValue(models.Model):
    staged_customer = models.ForeignKey(
        StagedAsyncCustomer, on_delete=models.CASCADE, related_name="attribute_values"
    )
    name = models.CharField(max_length=100)
    value = models.JSONField(null=True)

    class Meta:
        ordering = ["staged_customer_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["staged_customer", "name"], name="staged_attribute_unique"
            ),
        ]

    def __str__(self):
        return f"{self.name}: {attribute_value_text(self.value)}"


class StagedAsyncCustomerAffiliation(models.Model):
    staged_customer = models.ForeignKey(
        StagedAsyncCustomer, on_delete=models.CASCADE, related_name="affiliations"
    )
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["staged_customer_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["staged_customer", "name"], name="staged_affiliation_unique"
            ),
        ]

    def __str__(self):
        return self.name


class StagedAsyncAddress(StagingFields, AddressFields):
    """An async address of an existing customer, keyed by (channel database, GUID)."""

    async_address_id = models.UUIDField(db_index=True)
    customer_account = models.CharField(max_length=ACCOUNT_MAX_LENGTH)
    created_at_store = models.DateTimeField()
    location_id = models.CharField(max_length=60, blank=True, default="")

    class Meta:
        ordering = ["id"]
        verbose_name = "staged async address"
        verbose_name_plural = "staged async addresses"
        indexes = staged_status_indexes("address")
        constraints = [
            models.UniqueConstraint(
                fields=["channel_database", "async_address_id"],
                name="staged_address_unique_per_channel",
            ),
        ]

    def __str__(self):
        return str(self.async_address_id)


class StagedChannelRequest(StagingFields):
    """A channel request as the upload brought it (R11), keyed by (channel database, GUID).

    Applied in the order the store made the edits, after its customer exists: to the HQ
    customer (per field the latest change wins; ``skipped`` lists what HQ had changed
    later), or, while the customer's staged record has not been created, to that staged
    record."""

    request_id = models.UUIDField(db_index=True)
    target_async_customer_id = models.UUIDField(null=True, blank=True, db_index=True)
    target_account = models.CharField(max_length=ACCOUNT_MAX_LENGTH, blank=True, default="")
    edited_at = models.DateTimeField()
    changes = models.JSONField(default=dict)
    account = models.CharField(max_length=ACCOUNT_MAX_LENGTH, blank=True, default="")
    applied_version = models.PositiveBigIntegerField(null=True, blank=True)
    applied_to_staged = models.BooleanField(default=False)
    skipped = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["edited_at", "id"]
        verbose_name = "staged channel request"
        indexes = [
            models.Index(fields=["status", "edited_at", "id"], name="staged_request_status_idx")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel_database", "request_id"], name="staged_request_unique_per_channel"
            ),
        ]

    def __str__(self):
        return (
            f"request {self.request_id} on {self.target_account or self.target_async_customer_id}"
        )


# R16: the reference data each channel database holds (customers/models_reference.py).
from customers.models_reference import (  # noqa: E402, F401
    ChannelAffiliation,
    ChannelCustomerAttribute,
    ChannelCustomerGroup,
    ChannelReferenceVersion,
    ChannelStoreDefaults,
)
