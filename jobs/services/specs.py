"""What each job is (R10): its function (a dotted path, checked at start-up), its
permission and the kind of scope it runs for; and the scopes one request expands into,
one run per channel database for per-channel jobs, so each scope has its own lock.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.core import checks
from django.utils import timezone
from django.utils.module_loading import import_string

from commerce.models import ChannelDatabase, Store
from jobs.models import Job, JobRun


class JobRequestError(Exception):
    """A job request that cannot be accepted (bad scope, unknown job)."""


class JobAlreadyActive(JobRequestError):
    def __init__(self, run: JobRun):
        self.run = run
        super().__init__(
            f"{Job(run.job).label} for {run.scope} is already {run.status} "
            f"(job run #{run.pk}); not started again"
        )


@dataclass(frozen=True)
class JobSpec:
    job: str
    # Dotted path of the job function, called as function(run=..., progress=...,
    # **parameters). A path, not the function itself, so importing this module does not
    # import every job (and the customer domain behind it); the "jobs.E001" check
    # resolves them all at start-up.
    function: str
    scope: str  # "channel_database", "store" or "all"

    @property
    def permission(self) -> str:
        return f"jobs.run_{self.job.replace('-', '_')}"

    def resolve(self) -> Callable[..., None]:
        """The job function (ImportError when the path does not name one)."""
        return import_string(self.function)


JOB_SPECS: dict[str, JobSpec] = {
    Job.UPLOAD: JobSpec(Job.UPLOAD, "jobs.upload.upload_run", "channel_database"),
    Job.ASYNC_CUSTOMERS: JobSpec(
        Job.ASYNC_CUSTOMERS, "jobs.account_creation.account_creation_run", "all"
    ),
    Job.DISTRIBUTE: JobSpec(
        Job.DISTRIBUTE, "jobs.distribution.distribution_run", "channel_database"
    ),
    Job.SYNC_ORDERS: JobSpec(Job.SYNC_ORDERS, "jobs.orders.orders_sync_run", "all"),
    Job.POST_STATEMENTS: JobSpec(Job.POST_STATEMENTS, "jobs.orders.statements_post_run", "store"),
}

CONVERSION_JOBS = [Job.UPLOAD, Job.ASYNC_CUSTOMERS, Job.DISTRIBUTE]


def job_specs_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """System check: every job's function path resolves to a callable."""
    errors = []
    for spec in JOB_SPECS.values():
        job = str(spec.job)
        try:
            function = spec.resolve()
        except ImportError as error:
            errors.append(
                checks.Error(
                    f"job {job!r}: cannot import {spec.function!r} ({error})", id="jobs.E001"
                )
            )
            continue
        if not callable(function):
            errors.append(
                checks.Error(f"job {job!r}: {spec.function!r} is not callable", id="jobs.E001")
            )
    return errors


def job_spec(job: str) -> JobSpec:
    try:
        return JOB_SPECS[job]
    except KeyError:
        raise JobRequestError(
            f'Unknown job "{job}"; expected one of: {", ".join(sorted(JOB_SPECS))}.'
        ) from None


def _scope_value(value) -> str:
    if isinstance(value, list | tuple):
        # A selection (ids picked in the admin): the same selection is the same scope.
        digest = hashlib.sha1(",".join(map(str, sorted(value))).encode()).hexdigest()[:8]
        return f"{len(value)} selected #{digest}"
    return str(value)


def scope_string(parameters: dict) -> str:
    parts = [f"{key}={_scope_value(value)}" for key, value in sorted(parameters.items()) if value]
    return ",".join(parts) or "all"


def _business_date_check(business_date: str) -> None:
    """A statement is posted for a day that has begun (R9): a date in the future is
    refused before any run is made (the job refuses it too)."""
    try:
        date = datetime.date.fromisoformat(business_date)
    except ValueError:
        raise JobRequestError(
            f'Business date "{business_date}" is not a YYYY-MM-DD date.'
        ) from None
    if date > timezone.localdate():
        raise JobRequestError(
            f'Business date "{business_date}" is in the future; a statement is posted for a '
            "day that has begun."
        )


def job_scopes(
    *,
    job: str,
    channel_database: str | None = None,
    store: str | None = None,
    business_date: str | None = None,
    extra: dict | None = None,
) -> list[dict]:
    """The parameter sets one request expands into: one run per channel database for
    per-channel jobs (so each scope has its own lock), else a single run."""
    spec = job_spec(job)
    if channel_database and not ChannelDatabase.objects.filter(name=channel_database).exists():
        raise JobRequestError(f'Unknown channel database "{channel_database}".')
    if store and not Store.objects.filter(number=store).exists():
        raise JobRequestError(f'Unknown store "{store}".')
    if business_date and job == Job.POST_STATEMENTS:
        _business_date_check(business_date)
    base = dict(extra or {})
    if spec.scope == "channel_database":
        if store:
            channel_database = Store.objects.get(number=store).channel_database.name
        names = (
            [channel_database]
            if channel_database
            else list(ChannelDatabase.objects.order_by("name").values_list("name", flat=True))
        )
        if not names:
            raise JobRequestError("No channel database is set up; run setup_demo or import_data.")
        return [{**base, "channel_database": name} for name in names]
    if spec.scope == "store":
        numbers = [store] if store else list(Store.objects.values_list("number", flat=True))
        if not numbers:
            raise JobRequestError("No store is set up.")
        return [{**base, "store": number, "business_date": business_date} for number in numbers]
    if channel_database:
        base["channel_database"] = channel_database
    if store:
        base["store"] = store
    return [base]
