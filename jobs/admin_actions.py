"""Admin actions that request jobs (README "Admin"), for the commerce and customers
admin classes as well as the jobs admin.

Every action is declared with ``@admin.action(permissions=[...])`` and the ModelAdmin
mixes in ``JobPermissionsMixin``, whose ``has_run_<job>_permission`` methods check the
job's permission: an action shows (and runs) only for users who may run its job.
Actions call ``jobs.services``, which enqueues after the transaction commits; they say
what they queued, with a link to each job run, and report scopes already running.
This module imports nothing from customers, so commerce's admin can use it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from commerce.db import is_channel_alias
from commerce.models import StatementStatus
from commerce.selectors import orders_to_sync, statement_dates_to_post
from jobs.models import Job, JobRun
from jobs.services import (
    CONVERSION_JOBS,
    JOB_SPECS,
    JobAlreadyActive,
    JobRequestError,
    conversion_request,
    job_runs_request,
)
from jobs.watched_runs import job_runs_watch

VIA_ADMIN = "admin"


class JobPermissionsMixin:
    """``has_<name>_permission`` for ``@admin.action(permissions=["<name>"])``.

    Django shows an action when the user has *any* of its permissions, so the whole
    conversion, which needs all three, has a permission of its own here.
    """

    @staticmethod
    def may_run(request, *jobs: str) -> bool:
        return all(request.user.has_perm(JOB_SPECS[job].permission) for job in jobs)

    def has_run_upload_permission(self, request) -> bool:
        return self.may_run(request, Job.UPLOAD)

    def has_run_async_customers_permission(self, request) -> bool:
        return self.may_run(request, Job.ASYNC_CUSTOMERS)

    def has_run_distribute_permission(self, request) -> bool:
        return self.may_run(request, Job.DISTRIBUTE)

    def has_run_sync_orders_permission(self, request) -> bool:
        return self.may_run(request, Job.SYNC_ORDERS)

    def has_run_post_statements_permission(self, request) -> bool:
        return self.may_run(request, Job.POST_STATEMENTS)

    def has_run_conversion_permission(self, request) -> bool:
        return self.may_run(request, *CONVERSION_JOBS)


# --- Messages -----------------------------------------------------------------------


def job_run_url(run_id: int) -> str:
    return reverse("admin:jobs_jobrun_change", args=[run_id])


def job_run_link(run: JobRun):
    return format_html('<a href="{}">job run #{}</a>', job_run_url(run.pk), run.pk)


# --- Scopes in words ------------------------------------------------------------------

# A selection parameter (ids picked in the admin) -> what one / several of them are.
SELECTION_NOUNS = {
    "staged_customer_ids": ("staged async customer", "staged async customers"),
    "staged_address_ids": ("staged async address", "staged async addresses"),
    "staged_request_ids": ("staged channel request", "staged channel requests"),
    "transaction_ids": ("transaction", "transactions"),
}
SCOPE_WORDS = {
    "channel_database": "channel database",
    "store": "store",
    "business_date": "business date",
}
EVERYTHING = {
    "channel_database": "every channel database",
    "store": "every store",
    "all": "every record waiting for it",
}


def _selection_count(value: str) -> int:
    """A run's scope keeps a selection as "3 selected #fa35e192" (jobs.services)."""
    head = value.split(" ", 1)[0]
    return int(head) if head.isdigit() else 0


def scope_words(*, job: str, scope: str) -> str:
    """A run's scope as an operator says it: ``channel_database=HOUSTON`` -> "channel
    database HOUSTON"; ``business_date=2026-11-24,store=S0001`` -> "store S0001, business
    date 2026-11-24"; ``staged_customer_ids=3 selected #fa35e192`` -> "3 selected staged
    async customers"; ``all`` -> what "all" covers for the job."""
    values = dict(part.partition("=")[::2] for part in scope.split(",") if "=" in part)
    every_date = job == Job.POST_STATEMENTS and "store" in values and "business_date" not in values
    words = [f"{SCOPE_WORDS[key]} {values.pop(key)}" for key in SCOPE_WORDS if key in values]
    if every_date:
        words.append("every business date with sales to post")
    for key, (one, several) in SELECTION_NOUNS.items():
        if key in values:
            count = _selection_count(values.pop(key))
            words.append(f"{count} selected {one if count == 1 else several}")
    words += [f"{key.replace('_', ' ')} {value}" for key, value in sorted(values.items())]
    if not words:
        spec = JOB_SPECS.get(job)
        return EVERYTHING.get(spec.scope if spec else "all", EVERYTHING["all"])
    return ", ".join(words)


def run_scope_words(run: JobRun) -> str:
    return scope_words(job=run.job, scope=run.scope)


def job_requests_report(
    modeladmin, request, runs: Iterable[JobRun], refused: Iterable[JobAlreadyActive] = ()
) -> None:
    """One success message naming and linking every queued run; a warning per scope
    that was already queued or running (not started twice, R10)."""
    runs = list(runs)
    job_runs_watch(request, runs)  # the next pages show their outcome when done
    if runs:
        items = format_html_join(
            "; ",
            "{} for {}: {}",
            ((Job(run.job).label, run_scope_words(run), job_run_link(run)) for run in runs),
        )
        modeladmin.message_user(request, format_html("Queued {}.", items), messages.SUCCESS)
    for error in refused:
        active = error.run
        modeladmin.message_user(
            request,
            format_html(
                "{} for {} not started: already running: {} ({}).",
                Job(active.job).label,
                run_scope_words(active),
                job_run_link(active),
                active.get_status_display().lower(),
            ),
            messages.WARNING,
        )


def _request_each(modeladmin, request, scopes, make_request) -> None:
    """Call ``make_request(scope)`` (-> runs, refused) for each scope and report."""
    runs, refused = [], []
    for scope in scopes:
        try:
            new_runs, new_refused = make_request(scope)
        except JobAlreadyActive as error:
            new_runs, new_refused = [], [error]
        except JobRequestError as error:
            modeladmin.message_user(request, f"{scope}: {error}", messages.ERROR)
            continue
        runs.extend(new_runs)
        refused.extend(new_refused)
    job_requests_report(modeladmin, request, runs, refused)


# --- Channel databases ----------------------------------------------------------------


def _configured(modeladmin, request, queryset) -> list:
    channel_databases = []
    for channel_database in queryset.order_by("name"):
        if is_channel_alias(channel_database.alias):
            channel_databases.append(channel_database)
        else:
            modeladmin.message_user(
                request,
                f"{channel_database.name}: alias {channel_database.alias!r} is not a configured "
                "channel database; nothing queued for it.",
                messages.ERROR,
            )
    return channel_databases


def _channel_job(modeladmin, request, queryset, job: str) -> None:
    _request_each(
        modeladmin,
        request,
        _configured(modeladmin, request, queryset),
        lambda channel_database: job_runs_request(
            job=job, channel_database=channel_database.name, user=request.user, via=VIA_ADMIN
        ),
    )


@admin.action(description="Run upload (P-0001)", permissions=["run_upload"])
def run_upload(modeladmin, request, queryset):
    _channel_job(modeladmin, request, queryset, Job.UPLOAD)


@admin.action(description="Run distribution (1010)", permissions=["run_distribute"])
def run_distribution(modeladmin, request, queryset):
    _channel_job(modeladmin, request, queryset, Job.DISTRIBUTE)


@admin.action(
    description="Run the whole conversion (upload, create customers, distribute)",
    permissions=["run_conversion"],
)
def run_conversion(modeladmin, request, queryset):
    _request_each(
        modeladmin,
        request,
        _configured(modeladmin, request, queryset),
        lambda channel_database: (
            conversion_request(
                channel_database=channel_database.name, user=request.user, via=VIA_ADMIN
            ),
            [],
        ),
    )


# --- Sales transactions -------------------------------------------------------------


@admin.action(description="Synchronize order", permissions=["run_sync_orders"])
def synchronize_order(modeladmin, request, queryset):
    """Customer orders without a sales order (uploaded, or failed before) are queued;
    the others are reported as skipped."""
    selected = list(queryset.values_list("pk", "transaction_id"))
    eligible = set(
        orders_to_sync(transaction_ids=[pk for pk, _ in selected]).values_list("pk", flat=True)
    )
    skipped = sorted(transaction_id for pk, transaction_id in selected if pk not in eligible)
    if skipped:
        modeladmin.message_user(
            request,
            f"Skipped {len(skipped)} transaction{'' if len(skipped) == 1 else 's'} that "
            f"{'is' if len(skipped) == 1 else 'are'} not a customer order waiting for its "
            f"sales order: {', '.join(skipped)}.",
            messages.WARNING,
        )
    if not eligible:
        return
    _request_each(
        modeladmin,
        request,
        ["selected transactions"],
        lambda _scope: job_runs_request(
            job=Job.SYNC_ORDERS,
            extra={"transaction_ids": sorted(eligible)},
            user=request.user,
            via=VIA_ADMIN,
        ),
    )


# --- Stores: post statement for a business date --------------------------------------


class BusinessDateForm(forms.Form):
    business_date = forms.DateField(
        label="Business date",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        help_text="The statement of each selected store for this day is calculated and "
        "posted (YYYY-MM-DD). It starts at the oldest day with sales not posted yet.",
    )


def oldest_date_to_post(stores) -> datetime.date | None:
    """The oldest business date, up to today, with unposted sales (or an unposted
    statement) at any of ``stores``; each store gets ``dates_to_post`` for the page."""
    today = timezone.localdate()
    oldest = None
    for store in stores:
        store.dates_to_post = [d for d in statement_dates_to_post(store=store) if d <= today]
        if store.dates_to_post and (oldest is None or store.dates_to_post[0] < oldest):
            oldest = store.dates_to_post[0]
    return oldest


@admin.action(description="Post statement for a business date", permissions=["run_post_statements"])
def post_statement(modeladmin, request, queryset):
    """Asks the business date on an intermediate page, then queues post-statements for
    each selected store."""
    stores = list(queryset.order_by("number"))
    if "apply" in request.POST:
        form = BusinessDateForm(request.POST)
        if form.is_valid():
            business_date: datetime.date = form.cleaned_data["business_date"]
            _request_each(
                modeladmin,
                request,
                [store.number for store in stores],
                lambda number: job_runs_request(
                    job=Job.POST_STATEMENTS,
                    store=number,
                    business_date=business_date.isoformat(),
                    user=request.user,
                    via=VIA_ADMIN,
                ),
            )
            return None  # back to the store list, which shows the messages
    else:
        oldest = oldest_date_to_post(stores)
        form = BusinessDateForm(initial={"business_date": oldest or timezone.localdate()})
    if "apply" in request.POST:
        oldest_date_to_post(stores)  # the page shows each store's dates again
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Post statement for a business date",
        "opts": opts,
        "stores": stores,
        "form": form,
        "action_name": "post_statement",
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media + form.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/commerce/store/post_statement.html", context)


# --- Statements: post again ------------------------------------------------------------


def statements_post_again(modeladmin, request, statements) -> None:
    """Queue post-statements for the store and business date of each statement not
    posted yet (R9: all or nothing, so a failed statement is posted whole once its
    blockers are fixed); posted ones are reported as skipped."""
    posted = [s for s in statements if s.status == StatementStatus.POSTED]
    if posted:
        modeladmin.message_user(
            request,
            f"Skipped {len(posted)} already posted: {', '.join(str(s) for s in posted)}.",
            messages.WARNING,
        )
    to_post = {}
    for statement in statements:
        if statement.status != StatementStatus.POSTED:
            to_post.setdefault((statement.store.number, statement.business_date), statement)
    _request_each(
        modeladmin,
        request,
        list(to_post.values()),
        lambda statement: job_runs_request(
            job=Job.POST_STATEMENTS,
            store=statement.store.number,
            business_date=statement.business_date.isoformat(),
            user=request.user,
            via=VIA_ADMIN,
        ),
    )


@admin.action(description="Post again", permissions=["run_post_statements"])
def post_again(modeladmin, request, queryset):
    statements_post_again(
        modeladmin,
        request,
        list(queryset.select_related("store").order_by("store__number", "business_date")),
    )
