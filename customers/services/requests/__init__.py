"""R11: what a store changes on a customer travels to HQ as a channel request.

At the store (``customer_edit_at_store``):
- an async customer not uploaded yet is edited in place, under its row lock; the
  upload holds the same lock from reading a batch to stamping it, so an edit lands
  either before the upload reads the row (and travels with it) or after it is stamped
  (and becomes a request) - never in between, where it would be lost;
- any other change at an async (or offline) store is recorded as a channel request;
- at a real-time store a change to a synchronous customer is applied at HQ at once,
  and falls back to a channel request when HQ cannot be reached (R1).

At HQ, "Synchronize customers and channel requests" applies staged requests in the
order the store made them (``staged_requests_apply``): to the HQ customer, per field
the latest change winning (a field HQ changed after the store's edit keeps the HQ value
and the request records what it skipped), or, while the customer's staged record is
not created yet, to that staged record, which is then tried again in the same run.

One module per concern: ``at_store`` (the store's edit, R1 and R11), ``upload``
(staging requests at HQ, P-0001) and ``at_hq`` (applying staged requests).
"""

from customers.services.requests.at_hq import RequestOutcome, staged_requests_apply
from customers.services.requests.at_store import (
    HQ_UNREACHABLE,
    CustomerEditError,
    StoreEditResult,
    async_customer_changes_apply,
    customer_edit_at_store,
)
from customers.services.requests.upload import channel_requests_stage

__all__ = [
    "HQ_UNREACHABLE",
    "CustomerEditError",
    "RequestOutcome",
    "StoreEditResult",
    "async_customer_changes_apply",
    "channel_requests_stage",
    "customer_edit_at_store",
    "staged_requests_apply",
]
