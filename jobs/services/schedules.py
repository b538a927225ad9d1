"""The recurring schedules of the jobs (django-q2 ``Schedule`` rows): the conversion,
order synchronization and, per store, posting its statements at the end of the day (R9).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from commerce.environment import Env
from commerce.models import Store
from jobs.services.specs import JobRequestError

# The schedule intervals are read when `setup_schedules` runs, by the settings' reader.
ENV = Env()

SCHEDULES = [
    # (name, task, args, minutes setting, default minutes)
    (
        "Conversion: upload, create accounts, distribute",
        "jobs.tasks.scheduled_conversion_task",
        (),
        "CONVERSION_SCHEDULE_MINUTES",
        1,
    ),
    (
        "Synchronize orders",
        "jobs.tasks.scheduled_job_task",
        ("sync-orders",),
        "ORDER_SYNC_SCHEDULE_MINUTES",
        5,
    ),
]


def schedules_setup() -> list[tuple[str, bool]]:
    """Create or update the recurring schedules of all jobs. Idempotent.

    The cluster runs with ``catch_up=False``: after downtime a schedule runs once,
    not once per missed interval, and each tick skips scopes that are still active.
    """
    from django_q.models import Schedule

    results = []
    for name, func, args, setting, default in SCHEDULES:
        try:
            minutes = ENV.int(setting, getattr(settings, setting, default), minimum=1)
        except ImproperlyConfigured as error:
            raise JobRequestError(str(error)) from None
        schedule, created = Schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": func,
                "args": repr(tuple(args)) if args else None,
                "schedule_type": Schedule.MINUTES,
                "minutes": minutes,
                "repeats": -1,
            },
        )
        if created or schedule.next_run is None:
            Schedule.objects.filter(pk=schedule.pk).update(next_run=timezone.now())
        results.append((name, created))
    results += _end_of_day_schedules_setup(Schedule)
    results.append(_retention_schedule_setup(Schedule))
    return results


RETENTION_SCHEDULE = "Retention: purge what is no longer needed"


def _retention_schedule_setup(Schedule) -> tuple[str, bool]:
    """R15 (README, Retention): ``purge`` once a day, first at the next
    ``RETENTION_TIME`` (HH:MM in TIME_ZONE, default 03:00). Idempotent."""
    first = _next_time(ENV.str("RETENTION_TIME", "03:00"), "RETENTION_TIME")
    schedule, created = Schedule.objects.update_or_create(
        name=RETENTION_SCHEDULE,
        defaults={
            "func": "jobs.tasks.scheduled_purge_task",
            "schedule_type": Schedule.DAILY,
            "repeats": -1,
        },
    )
    if created or schedule.next_run is None:
        Schedule.objects.filter(pk=schedule.pk).update(next_run=first)
    return RETENTION_SCHEDULE, created


def _next_time(at: str, setting: str):
    try:
        hour, minute = (int(part) for part in at.strip().split(":"))
        first = timezone.localtime().replace(hour=hour, minute=minute, second=0, microsecond=0)
    except ValueError:
        raise JobRequestError(f"{setting} must be HH:MM (24-hour), got {at!r}") from None
    if first <= timezone.localtime():
        first += timedelta(days=1)
    return first


END_OF_DAY_PREFIX = "End of day: post the statements of store "


def _end_of_day_schedules_setup(Schedule) -> list[tuple[str, bool]]:
    """R9: one daily schedule per store posting its statements at the end of the day
    (``END_OF_DAY_TIME``, HH:MM in TIME_ZONE, default 23:30): every business date with
    unposted sales up to that day. A later sale of the day goes into the next statement
    of its date. Idempotent; a store's schedule keeps the time it was given."""
    at = ENV.str("END_OF_DAY_TIME", getattr(settings, "END_OF_DAY_TIME", "23:30"))
    try:
        hour, minute = (int(part) for part in at.strip().split(":"))
        first = timezone.localtime().replace(hour=hour, minute=minute, second=0, microsecond=0)
    except ValueError:
        raise JobRequestError(f"END_OF_DAY_TIME must be HH:MM (24-hour), got {at!r}") from None
    now = timezone.localtime()
    if first <= now:
        first += timedelta(days=1)
    results = []
    for number in Store.objects.order_by("number").values_list("number", flat=True):
        name = f"{END_OF_DAY_PREFIX}{number}"
        schedule, created = Schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": "jobs.tasks.scheduled_job_task",
                "args": repr(("post-statements",)),
                "kwargs": repr({"store": number}),
                "schedule_type": Schedule.DAILY,
                "repeats": -1,
            },
        )
        if created or schedule.next_run is None:
            Schedule.objects.filter(pk=schedule.pk).update(next_run=first)
        results.append((name, created))
    return results
