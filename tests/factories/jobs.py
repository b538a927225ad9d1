import hashlib
import json

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from jobs.models import (
    AppliedDownloadSession,
    CustomerDistribution,
    DownloadPayload,
    DownloadSession,
    Job,
    JobDemand,
    JobRun,
    JobScopeCheck,
    JobStatus,
    SessionStatus,
    UploadSession,
)
from tests.factories.base import ChannelFactory
from tests.factories.customers import CustomerFactory


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"operator{n}")
    is_staff = True


class JobRunFactory(factory.django.DjangoModelFactory):
    """A finished run; each one has its own scope, so several can be active at once."""

    class Meta:
        model = JobRun

    job = Job.UPLOAD
    scope = factory.Sequence(lambda n: f"channel_database=CHANNEL{n}")
    parameters = factory.LazyAttribute(lambda run: {"channel_database": run.scope.split("=")[-1]})
    status = JobStatus.SUCCEEDED
    requested_by = factory.SubFactory(UserFactory)
    requested_via = "admin"
    selected = 4
    succeeded = 3
    failed = 1
    errors = factory.LazyFunction(lambda: ["addresses[0].country: invalid country code"])
    message = "3 succeeded, 1 failed, 0 skipped of 4 selected"


class UploadSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UploadSession

    channel_database = "HOUSTON"
    job_run = factory.SubFactory(JobRunFactory)
    status = SessionStatus.ACKNOWLEDGED
    counts = factory.LazyFunction(lambda: {"kind": "customers", "customers": 2})


class DownloadPayloadFactory(factory.django.DjangoModelFactory):
    """A payload; ``value`` gives its JSON (``DownloadPayloadFactory(value={...})``)."""

    class Meta:
        model = DownloadPayload

    class Params:
        value = factory.LazyFunction(
            lambda: {
                "customers": [{"account": "C000002", "name": "Ona Šimkutė", "addresses": [{}]}],
                "ids": [2],
            }
        )

    key = factory.Sequence(lambda n: f"{n:064x}")
    text = factory.LazyAttribute(lambda o: json.dumps(o.value, sort_keys=True))
    checksum = factory.LazyAttribute(lambda o: hashlib.sha256(o.text.encode()).hexdigest())
    customers = factory.LazyAttribute(lambda o: len(o.value.get("customers", ())))


class DownloadSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DownloadSession

    channel_database = "HOUSTON"
    job_run = factory.SubFactory(JobRunFactory, job=Job.DISTRIBUTE)
    status = SessionStatus.APPLIED
    counts = factory.LazyFunction(lambda: {"customers": 1, "addresses": 1})
    checksum = factory.Sequence(lambda n: f"{n:064x}")
    payload = factory.SubFactory(DownloadPayloadFactory)


class CustomerDistributionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerDistribution

    channel_database = "HOUSTON"
    customer = factory.SubFactory(CustomerFactory)
    version = 1
    download_session = factory.SubFactory(DownloadSessionFactory)


class AppliedDownloadSessionFactory(ChannelFactory):
    class Meta:
        model = AppliedDownloadSession

    session_id = factory.Sequence(lambda n: n + 1)
    counts = factory.LazyFunction(lambda: {"customers": 1, "linked_customers": 1})


class JobScopeCheckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobScopeCheck

    job = Job.UPLOAD
    scope = factory.Sequence(lambda n: f"channel_database=CHANNEL{n}")
    checked_at = factory.LazyFunction(timezone.now)
    last_run = factory.SubFactory(JobRunFactory)


class JobDemandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobDemand

    job = Job.UPLOAD
    channel_database = factory.Sequence(lambda n: f"CHANNEL{n}")
    requested_at = factory.LazyFunction(timezone.now)
