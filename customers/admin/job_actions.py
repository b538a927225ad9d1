"""What the customers admin asks of the jobs app: the job permissions of its actions,
and synchronizing staged records again (R5).

This is the one module of ``customers`` that imports ``jobs`` (tests/customers/
test_structure.py checks it): the customer domain does not depend on the jobs that
move it, and the admin pages reach them only through here.
"""

from collections.abc import Sequence

from django.contrib import messages
from django.db import transaction

from commerce.db import HQ
from customers.models import StagedAsyncAddress, StagedAsyncCustomer, StagedChannelRequest
from customers.services.staging import staged_records_retry
from jobs.admin_actions import VIA_ADMIN, JobPermissionsMixin, job_requests_report
from jobs.models import ACTIVE_STATUSES, Job, JobRun
from jobs.services import CONVERSION_JOBS, JobRequestError, job_runs_request

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
    """Put the failed ones among these staged rows back to pending and queue one
    "Synchronize customers and channel requests" run for exactly these rows; the
    messages say what was queued (with a link to the run) or why not."""
    extra = {}
    try:
        with transaction.atomic(using=HQ):  # back to pending only with the run requested
            if customer_ids:
                staged_records_retry(
                    model=StagedAsyncCustomer, ids=customer_ids, actor=request.user
                )
                extra["staged_customer_ids"] = sorted(customer_ids)
            if address_ids:
                staged_records_retry(model=StagedAsyncAddress, ids=address_ids, actor=request.user)
                extra["staged_address_ids"] = sorted(address_ids)
            if request_ids:
                staged_records_retry(
                    model=StagedChannelRequest, ids=request_ids, actor=request.user
                )
                extra["staged_request_ids"] = sorted(request_ids)
            runs, refused = job_runs_request(
                job=Job.ASYNC_CUSTOMERS, extra=extra, user=request.user, via=VIA_ADMIN
            )
    except JobRequestError as error:
        modeladmin.message_user(request, str(error), messages.ERROR)
        return
    job_requests_report(modeladmin, request, runs, refused)
