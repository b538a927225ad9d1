"""Job runs (R10) and the sessions that move data between channel databases and HQ."""

import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from commerce.db import ChannelModel


class Job(models.TextChoices):
    UPLOAD = "upload", "Upload (P-0001)"
    ASYNC_CUSTOMERS = "async-customers", "Synchronize customers and channel requests"
    DISTRIBUTE = "distribute", "Distribute customers (1010)"
    SYNC_ORDERS = "sync-orders", "Synchronize orders"
    POST_STATEMENTS = "post-statements", "Post statements"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    COMPLETED_WITH_ERRORS = "completed_with_errors", "Completed with errors"
    FAILED = "failed", "Failed"


ACTIVE_STATUSES = [JobStatus.QUEUED, JobStatus.RUNNING]


class JobRun(models.Model):
    job = models.CharField(max_length=20, choices=Job.choices)
    scope = models.CharField(
        max_length=200,
        default="all",
        help_text="What this run covers, e.g. channel_database=HOUSTON.",
    )
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=24, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_via = models.CharField(max_length=20, default="command")
    task_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(
        default=timezone.now,
        help_text="When the run was last handed to a task (requested or taken over).",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=100, blank=True, default="")
    selected = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    # R12: records held for review as possible duplicates (neither created nor failed).
    held = models.PositiveIntegerField("held for review", default=0)
    errors = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("run_upload", "Can run upload (P-0001)"),
            ("run_async_customers", "Can run Synchronize customers and channel requests"),
            ("run_distribute", "Can run distribution (1010)"),
            ("run_sync_orders", "Can run Synchronize orders"),
            ("run_post_statements", "Can post statements"),
        ]
        constraints = [
            # The same job for the same scope never runs twice at once.
            models.UniqueConstraint(
                fields=["job", "scope"],
                condition=Q(status__in=["queued", "running"]),
                name="job_run_one_active_per_scope",
            ),
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values), name="job_run_status_valid"
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {Job(self.job).label} [{self.scope}] {JobStatus(self.status).label}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def processed(self) -> int:
        return self.succeeded + self.failed + self.held + self.skipped


class SessionStatus(models.TextChoices):
    CREATED = "created", "Created"
    APPLIED = "applied", "Applied"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    SUPERSEDED = "superseded", "Superseded"


class UploadSession(models.Model):
    """One batch moved from a channel database into HQ staging (P-0001)."""

    channel_database = models.CharField(max_length=50, db_index=True)
    job_run = models.ForeignKey(
        JobRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="upload_sessions"
    )
    status = models.CharField(
        max_length=12, choices=SessionStatus.choices, default=SessionStatus.CREATED
    )
    counts = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"Upload #{self.pk} {self.channel_database} {self.status}"


class DownloadPayload(models.Model):
    """What 1010 sends for one set of customer versions (README "Distribution"):
    built once and received by every channel database that needs that very set, in
    download sessions that point to it. ``key`` names the set (its customers' ids and
    versions, ``jobs.download_payloads.payload_key``); ``text`` is the canonical JSON
    ``{"customers": [...], "ids": [...]}`` (``commerce.db.bulk.JSONText``), kept as text
    since nothing queries inside it; ``checksum`` is the SHA-256 of that text."""

    key = models.CharField(max_length=64, unique=True)
    text = models.TextField()
    checksum = models.CharField(max_length=64)
    customers = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"Payload #{self.pk} ({self.customers} customers)"

    def value(self) -> dict:
        """The payload as sent: ``customers`` (one entry per customer) and their ``ids``."""
        return json.loads(self.text) if self.text else {}


class DownloadSession(models.Model):
    """One batch of customers sent from HQ to a channel database (1010): the shared
    ``payload`` it carried, and what became of it."""

    channel_database = models.CharField(max_length=50, db_index=True)
    job_run = models.ForeignKey(
        JobRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="download_sessions"
    )
    status = models.CharField(
        max_length=12, choices=SessionStatus.choices, default=SessionStatus.CREATED
    )
    counts = models.JSONField(default=dict, blank=True)
    checksum = models.CharField(max_length=64, blank=True, default="")
    payload = models.ForeignKey(
        DownloadPayload,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sessions",
    )
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"Download #{self.pk} {self.channel_database} {self.status}"


class CustomerDistribution(models.Model):
    """Which version of a customer a channel database has received (1010)."""

    channel_database = models.CharField(max_length=50)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="distributions"
    )
    version = models.PositiveBigIntegerField()
    download_session = models.ForeignKey(
        DownloadSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["channel_database", "customer_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel_database", "customer"], name="customer_distribution_unique"
            ),
        ]

    def __str__(self):
        return f"{self.customer_id}@{self.channel_database} v{self.version}"


class AppliedDownloadSession(ChannelModel):
    """Channel-side record that a download session was applied: makes apply idempotent."""

    session_id = models.BigIntegerField(unique=True)
    applied_at = models.DateTimeField(auto_now_add=True)
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "channel_applied_download_session"
        ordering = ["-session_id"]

    def __str__(self):
        return f"Download #{self.session_id} applied"


class JobScopeCheck(models.Model):
    """When a job last looked at a scope, whether or not it found work.

    A scheduled or triggered run that found nothing to do is not kept as a job run
    (Freshness), so this row is what shows that the job is alive for the scope; it is
    upserted at the end of every execution. ``last_run`` is the newest run kept (one that
    did work or failed).
    """

    job = models.CharField(max_length=20, choices=Job.choices)
    scope = models.CharField(max_length=200)
    checked_at = models.DateTimeField()
    last_run = models.ForeignKey(
        JobRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Distribution (1010, jobs.distribution): when the last run that looked at every
    # customer of the legal entities it names (their pks) started. A triggered run then
    # looks only at the customers changed since (less DISTRIBUTION_CHANGE_MARGIN_SECONDS).
    complete_from = models.DateTimeField(null=True, blank=True)
    complete_legal_entities = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["job", "scope"]
        constraints = [
            models.UniqueConstraint(fields=["job", "scope"], name="job_scope_check_unique"),
        ]

    def __str__(self):
        return f"{Job(self.job).label} [{self.scope}] checked {self.checked_at:%Y-%m-%d %H:%M:%S}"


class JobDemand(models.Model):
    """Work a store asked for that no run has started to cover yet (Freshness).

    ``upload``: a store wrote to ``channel_database``; the conversion chain that starts
    with its upload is owed. ``distribute``: another channel database of the same legal
    entity created or changed customers this one must receive (R7). ``sync-orders``: an
    upload staged customer orders from it. Set (upserted) after the work that asks for
    it commits, removed when a run that covers it is claimed; one row per job and channel
    database, so any number of writes coalesce into it.
    """

    job = models.CharField(max_length=20, choices=Job.choices)
    channel_database = models.CharField(max_length=50)
    requested_at = models.DateTimeField()

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "channel_database"], name="job_demand_one_per_channel"
            ),
        ]

    def __str__(self):
        return f"{Job(self.job).label} owed to {self.channel_database}"
