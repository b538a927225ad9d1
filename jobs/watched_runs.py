"""An admin action that queues work shows its result when it is done (README "Admin").

Every action reports what it queued through ``jobs.admin_actions.job_requests_report``,
which also remembers the runs in the person's session (``job_runs_watch``). While one of
them is queued or running, every admin page that person opens says so and refreshes
itself every few seconds (``watched_job_runs``, a template context processor, and
``templates/admin/base_site.html``); once they are done, the page shows each run's
outcome as a message, with a link, and stops refreshing. A run already done when the
first page after the action is drawn needs no waiting: that page shows its result
itself (the statement posted, the record synchronized) under the "Queued" message,
and no outcome message is added. So "Post again" on a statement
ends on the statement's page showing it posted (or why not), with no manual reload.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib import messages
from django.utils.html import format_html

from jobs.models import Job, JobRun, JobStatus

WATCHED_KEY = "jobs_watched_runs"
WAITING_KEY = "jobs_waited_runs"  # the watched runs a page has shown as waiting
WATCH_REFRESH_SECONDS = 3
WATCH_LIMIT = 50  # runs remembered per session (the newest)

OUTCOME_LEVEL = {
    JobStatus.SUCCEEDED: messages.SUCCESS,
    JobStatus.COMPLETED_WITH_ERRORS: messages.WARNING,
    JobStatus.FAILED: messages.ERROR,
}


def job_runs_watch(request, runs: Iterable[JobRun]) -> None:
    """Remember ``runs`` in the session so the next pages follow them to their end."""
    session = getattr(request, "session", None)
    if session is None:
        return
    ids = [*session.get(WATCHED_KEY, []), *(run.pk for run in runs)]
    session[WATCHED_KEY] = list(dict.fromkeys(ids))[-WATCH_LIMIT:]


def _outcome_message(run: JobRun):
    from jobs.admin_actions import job_run_link, run_scope_words

    return format_html(
        "{} for {} ({}): {}{}",
        Job(run.job).label,
        run_scope_words(run),
        job_run_link(run),
        run.get_status_display(),
        f" – {run.message}" if run.message else ".",
    )


def watched_job_runs(request) -> dict:
    """Context processor: the watched runs still queued or running (the page refreshes
    while there are any); the ones that finished become messages and are forgotten.
    One query, and none for a session that watches nothing."""
    session = getattr(request, "session", None)
    ids = session.get(WATCHED_KEY) if session is not None else None
    if not ids:
        return {}
    waited = set(session.get(WAITING_KEY, []))
    runs = list(JobRun.objects.filter(pk__in=ids).order_by("pk"))
    active = [run for run in runs if run.is_active]
    for run in runs:
        if not run.is_active and run.pk in waited:
            messages.add_message(
                request,
                OUTCOME_LEVEL.get(run.status, messages.INFO),
                _outcome_message(run),
                extra_tags="job-outcome",
                fail_silently=True,
            )
    session[WATCHED_KEY] = session[WAITING_KEY] = [run.pk for run in active]
    if not active:
        return {}
    return {
        "watched_runs": active,
        "watched_jobs": sorted({run.job for run in active}),
        "watch_refresh_seconds": WATCH_REFRESH_SECONDS,
    }
