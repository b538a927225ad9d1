"""Organization (legal entities, stores, channel databases) and sales transactions.

HQ models live in ``default``; ``Channel*`` models live in each channel database and
refer to HQ records only by business keys (store number, account number, GUID).
"""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from commerce.db import ChannelModel

# One length for a customer account number wherever it is stored (HQ, staging, channel
# copies, transactions, orders): a sequence's prefix plus its digits must fit in it.
ACCOUNT_MAX_LENGTH = 30

code_validator = RegexValidator(r"^[A-Za-z0-9_-]+$", "Use letters, digits, '-' or '_' only.")


class DuplicatePolicy(models.TextChoices):
    """R12: what HQ does with an async customer that looks like an existing customer."""

    CREATE = "create", "Create the account and list the possible duplicate"
    REVIEW = "review", "Hold the record for review (needs review)"


class LegalEntity(models.Model):
    code = models.CharField(max_length=10, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3)
    duplicate_policy = models.CharField(
        max_length=10,
        choices=DuplicatePolicy.choices,
        default=DuplicatePolicy.CREATE,
        # README, Rule map: R12.
        help_text="An async customer with the same email, phone or name and zip as a "
        "customer of this legal entity is created and listed, or held for review.",
    )

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "legal entities"
        constraints = [
            models.CheckConstraint(
                condition=Q(duplicate_policy__in=DuplicatePolicy.values),
                name="legal_entity_duplicate_policy_valid",
            ),
        ]

    def __str__(self):
        return self.code


class NumberSequence(models.Model):
    """The customer account number sequence of a legal entity (non-continuous)."""

    legal_entity = models.OneToOneField(
        LegalEntity, on_delete=models.CASCADE, related_name="customer_sequence"
    )
    prefix = models.CharField(max_length=10, blank=True, default="")
    digits = models.PositiveSmallIntegerField(
        default=6, validators=[MinValueValidator(1), MaxValueValidator(18)]
    )
    next_number = models.PositiveBigIntegerField(default=1)

    class Meta:
        ordering = ["legal_entity__code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(digits__gte=1, digits__lte=18), name="number_sequence_digits_range"
            ),
            models.CheckConstraint(
                condition=Q(next_number__gte=1), name="number_sequence_next_ge_1"
            ),
        ]

    def __str__(self):
        return f"{self.legal_entity_id and self.legal_entity.code}: {self.format(self.next_number)}"

    def format(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.digits}d}"


class FunctionalityProfile(models.Model):
    code = models.CharField(max_length=20, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200, blank=True, default="")
    create_customer_in_async_mode = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.code


class ChannelDatabase(models.Model):
    """A store-side database; ``alias`` is the Django database alias it lives in."""

    name = models.CharField(max_length=50, unique=True, validators=[code_validator])
    alias = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Store(models.Model):
    number = models.CharField(max_length=20, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    legal_entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="stores")
    channel_database = models.ForeignKey(
        ChannelDatabase, on_delete=models.PROTECT, related_name="stores"
    )
    functionality_profile = models.ForeignKey(
        FunctionalityProfile, on_delete=models.PROTECT, related_name="stores"
    )
    default_customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="default_for_stores"
    )
    offline = models.BooleanField(
        default=False, help_text="HQ is unreachable from this store: customers are created async."
    )

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return self.number

    @property
    def creates_customers_async(self) -> bool:
        return self.offline or self.functionality_profile.create_customer_in_async_mode


class TransactionType(models.TextChoices):
    CASH_AND_CARRY = "cash_and_carry", "Cash and carry"
    CUSTOMER_ORDER = "customer_order", "Customer order"


class ChannelSalesTransaction(ChannelModel):
    """A sale recorded at a store, in its channel database.

    A transaction id is unique within its store (Commerce numbers them store-terminal-
    sequence); two stores may send the same id and HQ keeps both.
    """

    transaction_id = models.CharField(max_length=60)
    store_number = models.CharField(max_length=20, db_index=True)
    type = models.CharField(max_length=20, choices=TransactionType.choices)
    business_date = models.DateField()
    customer_account = models.CharField(max_length=ACCOUNT_MAX_LENGTH, null=True, blank=True)
    async_customer_id = models.UUIDField(null=True, blank=True, db_index=True)
    delivery_address = models.CharField(
        max_length=60, blank=True, default="", help_text="An async address GUID or a location id."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    upload_session_id = models.BigIntegerField(
        null=True, blank=True, help_text="HQ upload session that carried this row."
    )
    uploaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "channel_sales_transaction"
        ordering = ["transaction_id"]
        indexes = [
            models.Index(fields=["upload_session_id", "id"], name="channel_txn_upload_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["store_number", "transaction_id"], name="channel_txn_unique_per_store"
            ),
        ]

    def __str__(self):
        return self.transaction_id


class ChannelSalesLine(ChannelModel):
    transaction = models.ForeignKey(
        ChannelSalesTransaction, on_delete=models.CASCADE, related_name="lines"
    )
    line_number = models.PositiveIntegerField()
    item = models.CharField(max_length=40)
    quantity = models.DecimalField(max_digits=14, decimal_places=3)
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        db_table = "channel_sales_line"
        ordering = ["transaction_id", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["transaction", "line_number"], name="channel_sales_line_unique_number"
            ),
        ]

    def __str__(self):
        return f"{self.transaction_id}/{self.line_number}"


class TransactionStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    ORDER_CREATED = "order_created", "Order created"
    ORDER_FAILED = "order_failed", "Order failed"
    POSTED = "posted", "Posted"
    POSTING_FAILED = "posting_failed", "Posting failed"


class SalesTransaction(models.Model):
    """A sales transaction at HQ, as the upload (P-0001) brought it from its store;
    identified by (store, transaction id)."""

    transaction_id = models.CharField(max_length=60)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="transactions")
    channel_database = models.CharField(max_length=50)
    type = models.CharField(max_length=20, choices=TransactionType.choices)
    business_date = models.DateField()
    customer_account = models.CharField(max_length=ACCOUNT_MAX_LENGTH, blank=True, default="")
    async_customer_id = models.UUIDField(null=True, blank=True, db_index=True)
    delivery_address = models.CharField(max_length=60, blank=True, default="")
    status = models.CharField(
        max_length=20,
        choices=TransactionStatus.choices,
        default=TransactionStatus.UPLOADED,
        db_index=True,
    )
    last_error = models.TextField(blank=True, default="")
    upload_session = models.ForeignKey(
        "jobs.UploadSession", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    delivery_location_id = models.CharField(
        max_length=60, blank=True, default="", help_text="The HQ address the delivery resolved to."
    )
    statement = models.ForeignKey(
        "Statement", on_delete=models.SET_NULL, null=True, blank=True, related_name="transactions"
    )
    posted_customer_account = models.CharField(
        max_length=ACCOUNT_MAX_LENGTH,
        blank=True,
        default="",
        help_text="The account the posting went to.",
    )
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["transaction_id"]
        indexes = [
            models.Index(fields=["store", "business_date"], name="sales_txn_store_date_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "transaction_id"], name="sales_txn_unique_per_store"
            ),
        ]

    def __str__(self):
        return self.transaction_id

    @property
    def total(self):
        return sum((line.amount for line in self.lines.all()), start=0)


class SalesLine(models.Model):
    transaction = models.ForeignKey(
        SalesTransaction, on_delete=models.CASCADE, related_name="lines"
    )
    line_number = models.PositiveIntegerField()
    item = models.CharField(max_length=40)
    quantity = models.DecimalField(max_digits=14, decimal_places=3)
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["transaction_id", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["transaction", "line_number"], name="sales_line_unique_number"
            ),
        ]

    def __str__(self):
        return f"{self.transaction_id}/{self.line_number}"

    @property
    def amount(self):
        return self.quantity * self.unit_price


class SalesOrder(models.Model):
    """The HQ sales order that order synchronization made from a customer order."""

    order_number = models.CharField(max_length=70)
    transaction = models.OneToOneField(
        SalesTransaction, on_delete=models.PROTECT, related_name="sales_order"
    )
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="sales_orders")
    customer_account = models.CharField(max_length=ACCOUNT_MAX_LENGTH)
    delivery_location_id = models.CharField(max_length=60, blank=True, default="")
    total = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "order_number"], name="sales_order_unique_number_per_store"
            ),
        ]

    def __str__(self):
        return self.order_number


class SalesOrderLine(models.Model):
    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    item = models.CharField(max_length=40)
    quantity = models.DecimalField(max_digits=14, decimal_places=3)
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["order_id", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "line_number"], name="sales_order_line_unique_number"
            ),
        ]

    def __str__(self):
        return f"{self.order_id}/{self.line_number}"


class StatementStatus(models.TextChoices):
    OPEN = "open", "Open"
    CALCULATED = "calculated", "Calculated"
    POSTED = "posted", "Posted"
    FAILED = "failed", "Failed"


class Statement(models.Model):
    """End-of-day statement of a store and business date (its cash-and-carry sales).

    A sale that arrives after its date's statement was posted goes into the next
    statement of the same date (``sequence`` 2, 3, ...), never into a posted one.
    """

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="statements")
    business_date = models.DateField()
    sequence = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(
        max_length=12, choices=StatementStatus.choices, default=StatementStatus.OPEN
    )
    transaction_count = models.PositiveIntegerField(default=0)
    total = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    errors = models.JSONField(default=list, blank=True)
    calculated_at = models.DateTimeField(null=True, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-business_date", "store__number"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "business_date", "sequence"], name="statement_unique_sequence"
            ),
        ]

    def __str__(self):
        label = f"{self.store_id and self.store.number} {self.business_date}"
        return label if self.sequence == 1 else f"{label} #{self.sequence}"


# The event log's tables (README "Event log"), defined with their writers.
from commerce.events import ChannelEvent, Event  # noqa: E402, F401
