"""The customers admin, one module per concern (Django autodiscovers ``customers.admin``;
importing the modules registers their admin classes):

- ``master``: HQ setup and the HQ customer master, with "Add customer at store" (R1);
- ``channel``: the channel customer records, per channel database;
- ``staging`` and ``staged_customers``: HQ staging, where records HQ rejected (R5) are
  fixed and synchronized again;
- ``guid_collisions``: "Create under a new GUID" for a record another channel database's
  GUID failed;
- ``duplicates``: possible duplicates and the review of held records (R12);
- ``requests``: channel requests (R11), at the store and staged at HQ;
- ``reference``: the reference data each channel database holds (R16);
- ``status``: the customer synchronization status page;
- ``job_actions``: the one module of ``customers`` that imports ``jobs``.
"""

from customers.admin import (
    channel,
    duplicates,
    master,
    reference,
    requests,
    staged_customers,
    staging,
    status,
)

__all__ = [
    "channel",
    "duplicates",
    "master",
    "reference",
    "requests",
    "staged_customers",
    "staging",
    "status",
]
