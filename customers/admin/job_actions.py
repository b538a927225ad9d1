"""What the customers admin asks of the jobs app: the job permissions of its actions,
and synchronizing staged records again (R5).

This is the one module of ``customers`` that imports ``jobs`` (tests/customers/
test_structure.py checks it): the customer domain does not depend on the jobs that
move it, and the admin pages reach them only through here.
"""

from collections.abc import Sequence

from django.contrib import messages
from django.db import transaction
from django.utils.html import format_html

from commerce.db import HQ
from customers.models import StagedAsyncAddress, StagedAsyncCustomer, StagedChannelRequest
from customers.services.staging import staged_records_retry
from jobs.admin_actions import (
    VIA_ADMIN,
    JobPermissionsMixin,
    job_requests_report,
    job_run_link,
    run_scope_words,
)
from jobs.fix_chain import fix_chain_request
from jobs.models import ACTIVE_STATUSES, Job, JobRun
from jobs.services import CONVERSION_JOBS, JobRequestError

__all__ = ["JobPermissionsMixin", "conversion_running", "staged_synchronize"]


def conversion_running() -> bool:
    """Whether an upload, account creation or distribution run is queued or running."""
    return JobRun.objects.filter(job__in=CONVERSION_JOBS, status__in=ACTIVE_STATUSES).exists()


def staged_synchronize(
    modeladmin,
    request,
    *,
    customer_ids: Sequence[int] = (),
    address_ids: Sequence[int] = (),
    request_ids: Sequence[int] = (),
) -> None:
    """Put the failed ones among these staged rows back to pending and queue the rest of
    their chain (``jobs.fix_chain``): "Synchronize customers and channel requests" for
    exactly these rows, distribution (1010) to every channel database of their legal
    entities, and the orders and statements they held back. The messages say what was
    queued (with a link to each run) or why not."""
    try:
        with transaction.atomic(using=HQ):  # back to pending only with the runs requested
            if customer_ids:
                staged_records_retry(
                    model=StagedAsyncCustomer, ids=customer_ids, actor=request.user
                )
            if address_ids:
                staged_records_retry(model=StagedAsyncAddress, ids=address_ids, actor=request.user)
            if request_ids:
                staged_records_retry(
                    model=StagedChannelRequest, ids=request_ids, actor=request.user
                )
            runs, following = fix_chain_request(
                customer_ids=customer_ids,
                address_ids=address_ids,
                request_ids=request_ids,
                user=request.user,
                via=VIA_ADMIN,
            )
    except JobRequestError as error:
        modeladmin.message_user(request, str(error), messages.ERROR)
        return
    job_requests_report(modeladmin, request, runs)
    for error in following:  # a stage whose scope is busy
        active = error.run
        # A distribution is owed at the chain's end and runs again after the busy one.
        template = (
            "{} for {} follows {}, already {}."
            if active.job == Job.DISTRIBUTE
            else "{} for {} not queued: {} is already {}; ask again once it is done."
        )
        modeladmin.message_user(
            request,
            format_html(
                template,
                Job(active.job).label,
                run_scope_words(active),
                job_run_link(active),
                active.get_status_display().lower(),
            ),
            messages.INFO if active.job == Job.DISTRIBUTE else messages.WARNING,
        )
