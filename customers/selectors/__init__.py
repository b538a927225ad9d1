"""Customer reads: querysets with their joins applied, payloads, status rows, store pages.

Everything here streams in chunks and issues a fixed number of queries per chunk. One
module per reader: ``master`` (the HQ customer list, comparison, export), ``payloads``
(what channel databases receive; the customers each 1010 batch sends), ``status`` (the
async customer status list), ``store`` (the store customers page).
"""

from customers.selectors.master import (
    customer_export_row,
    customer_export_rows,
    customer_list,
    customers_for_comparison,
)
from customers.selectors.payloads import (
    customer_payload,
    customer_payloads,
    customers_to_distribute,
    distribution_windows,
    legal_entities_served,
    payloads_read,
    versions_to_distribute,
    with_payload_relations,
)
from customers.selectors.status import (
    ASYNC_STATUS_LABELS,
    STAGING_TO_STATUS,
    WITH_LAST_ERROR,
    AsyncStatus,
    async_status,
    async_status_label,
    async_status_rows,
    async_status_summary,
    channel_database_names,
    channel_records_statuses,
    edit_state,
    staged_records_statuses,
)
from customers.selectors.store import (
    PendingEdit,
    StoreCustomer,
    StoreCustomerPage,
    store_customer_get,
    store_customer_search,
)
from customers.selectors.store_all import (
    AllStoresResult,
    HqCustomer,
    hq_customer_search,
    store_customer_search_all,
)

__all__ = [
    "AllStoresResult",
    "HqCustomer",
    "ASYNC_STATUS_LABELS",
    "STAGING_TO_STATUS",
    "WITH_LAST_ERROR",
    "AsyncStatus",
    "PendingEdit",
    "StoreCustomer",
    "StoreCustomerPage",
    "async_status",
    "async_status_label",
    "async_status_rows",
    "async_status_summary",
    "channel_database_names",
    "channel_records_statuses",
    "customer_export_row",
    "customer_export_rows",
    "customer_list",
    "customer_payload",
    "customer_payloads",
    "customers_for_comparison",
    "customers_to_distribute",
    "distribution_windows",
    "legal_entities_served",
    "edit_state",
    "hq_customer_search",
    "staged_records_statuses",
    "payloads_read",
    "versions_to_distribute",
    "store_customer_get",
    "store_customer_search",
    "store_customer_search_all",
    "with_payload_relations",
]
