"""What the job pages share: read only (the jobs write these rows), clock times and
counts in words.
"""

from django.contrib import admin
from django.utils import timezone

from commerce.admin import ViewOnlyMixin


class ReadOnlyAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """The jobs write these rows; people look at them."""


class JobLabelColumn:
    """The ``job_label`` column of a list of rows that name a job: its name, sortable."""

    @admin.display(description="job", ordering="job")
    def job_label(self, obj):
        return obj.get_job_display()


def moment_text(moment) -> str:
    """The local date and time of ``moment`` to the second; "-" when there is none."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def clock_text(moment, day) -> str:
    """The time of ``moment``, with its date only when it is not ``day``."""
    local = timezone.localtime(moment)
    return local.strftime("%H:%M:%S" if local.date() == day else "%Y-%m-%d %H:%M:%S")


def counts_text(counts: dict) -> str:
    """``{"customers": 3, "applied": {"linked_customers": 3}}`` -> "customers 3, applied:
    linked_customers 3"."""
    parts = []
    for key, value in (counts or {}).items():
        words = key.replace("_", " ")
        if isinstance(value, dict):
            parts.append(f"{words}: {counts_text(value)}")
        else:
            parts.append(f"{words} {value}")
    return ", ".join(parts) or "-"
