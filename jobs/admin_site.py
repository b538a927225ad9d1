"""The admin site: its index grouped by what an operator does (README "Admin") —
conversion, stores, customers, setup — with what failed next to the page that fixes it.

The index regroups Django's app list, so per-app and per-model permissions decide
what shows exactly as on Django's own index. The failed counts are one aggregate
query per kind of record, made only for the pages the user can open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib import admin
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from commerce.models import SalesTransaction, Statement, StatementStatus, TransactionStatus
from customers.models import (
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedChannelRequest,
    StagingStatus,
)
from jobs.models import JobRun, JobStatus

FAILED_RUNS_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class Section:
    key: str
    name: str
    description: str
    models: tuple[str, ...]  # "app_label.model_name", in the order shown


SECTIONS = [
    Section(
        "conversion",
        "Conversion",
        "Async customers on their way from the stores to HQ and back: where each one "
        "stands, the job runs, the staged records to fix.",
        (
            "jobs.jobrun",
            "customers.stagedasynccustomer",
            "customers.stagedasyncaddress",
            "customers.stagedchannelrequest",
            "jobs.uploadsession",
            "jobs.downloadsession",
            "jobs.customerdistribution",
            "jobs.applieddownloadsession",
            "customers.stagedasynccustomeraddress",
            "customers.stagedasynccustomercontact",
            "customers.stagedasynccustomerattributevalue",
            "customers.stagedasynccustomeraffiliation",
        ),
    ),
    Section(
        "stores",
        "Stores",
        "The stores and their channel databases, their sales, orders and end-of-day statements.",
        (
            "commerce.store",
            "commerce.channeldatabase",
            "commerce.salestransaction",
            "commerce.statement",
            "commerce.salesorder",
            "commerce.channelsalestransaction",
            "commerce.salesline",
            "commerce.salesorderline",
            "commerce.channelsalesline",
        ),
    ),
    Section(
        "customers",
        "Customers",
        "The HQ customer master, and the customers as the stores hold them.",
        (
            "customers.customer",
            "customers.party",
            "customers.address",
            "customers.contactinfo",
            "customers.customerattributevalue",
            "customers.customeraffiliation",
            "customers.asynccustomer",
            "customers.asyncaddress",
            "customers.channelrequest",
            "customers.channelcustomer",
            "customers.channelcustomeraddress",
            "customers.asynccustomeraddress",
            "customers.asynccustomercontact",
            "customers.asynccustomerattributevalue",
            "customers.asynccustomeraffiliation",
        ),
    ),
    Section(
        "setup",
        "Setup",
        "Legal entities and their number sequences, customer groups, attributes, "
        "affiliations, functionality profiles, users and the task queue.",
        (
            "commerce.legalentity",
            "commerce.numbersequence",
            "customers.customergroup",
            "customers.customerattribute",
            "customers.affiliation",
            "commerce.functionalityprofile",
        ),
    ),
]
# A model no section names goes by its app; anything else (auth, the task queue) is setup.
APP_SECTIONS = {"jobs": "conversion", "commerce": "stores", "customers": "customers"}
DEFAULT_SECTION = "setup"


def _badges(url: str, *counts: tuple[int, str, str]) -> list[dict]:
    """A badge per non-zero ``(count, label, status)``, linking the list filtered by it."""
    return [
        {"count": count, "label": label, "url": f"{url}?status__exact={status}"}
        for count, label, status in counts
        if count
    ]


def failed_badges(visible: dict[str, str]) -> dict[str, list[dict]]:
    """What failed, per model the user may see (``{"app.model": changelist url}``):
    failed and needs-review staged records, job runs failed within the last day, failed
    statements, transactions whose order or posting failed. One query per model."""
    badges: dict[str, list[dict]] = {}
    for label, model in (
        ("customers.stagedasynccustomer", StagedAsyncCustomer),
        ("customers.stagedasyncaddress", StagedAsyncAddress),
        ("customers.stagedchannelrequest", StagedChannelRequest),
    ):
        if label in visible:
            counts = model.objects.aggregate(
                failed=Count("pk", filter=Q(status=StagingStatus.FAILED)),
                review=Count("pk", filter=Q(status=StagingStatus.NEEDS_REVIEW)),
            )
            badges[label] = _badges(
                visible[label],
                (counts["failed"], "failed", StagingStatus.FAILED),
                (counts["review"], "needs review", StagingStatus.NEEDS_REVIEW),
            )
    if "jobs.jobrun" in visible:
        since = timezone.now() - FAILED_RUNS_WINDOW
        failed = JobRun.objects.filter(status=JobStatus.FAILED, created_at__gte=since).count()
        badges["jobs.jobrun"] = _badges(
            visible["jobs.jobrun"], (failed, "failed today", JobStatus.FAILED)
        )
    if "commerce.statement" in visible:
        failed = Statement.objects.filter(status=StatementStatus.FAILED).count()
        badges["commerce.statement"] = _badges(
            visible["commerce.statement"], (failed, "failed", StatementStatus.FAILED)
        )
    if "commerce.salestransaction" in visible:
        counts = SalesTransaction.objects.aggregate(
            order=Count("pk", filter=Q(status=TransactionStatus.ORDER_FAILED)),
            posting=Count("pk", filter=Q(status=TransactionStatus.POSTING_FAILED)),
        )
        badges["commerce.salestransaction"] = _badges(
            visible["commerce.salestransaction"],
            (counts["order"], "order failed", TransactionStatus.ORDER_FAILED),
            (counts["posting"], "posting failed", TransactionStatus.POSTING_FAILED),
        )
    return badges


def _model_key(model_dict: dict) -> str:
    return model_dict["model"]._meta.label_lower


def index_sections(app_list: list[dict]) -> list[dict]:
    """Django's app list (already filtered by permission), regrouped into SECTIONS."""
    models = {_model_key(m): m for app in app_list for m in app["models"]}
    placed: dict[str, list[dict]] = {section.key: [] for section in SECTIONS}
    for section in SECTIONS:
        placed[section.key] = [models.pop(key) for key in section.models if key in models]
    for key, model in sorted(models.items(), key=lambda item: item[1]["name"]):
        app_label = key.partition(".")[0]
        placed[APP_SECTIONS.get(app_label, DEFAULT_SECTION)].append(model)
    return [
        {
            "key": section.key,
            "name": section.name,
            "description": section.description,
            "models": placed[section.key],
            "pages": [],
        }
        for section in SECTIONS
    ]


class OperatorAdminSite(admin.AdminSite):
    """``admin.site`` (set by ``jobs.admin_apps.OperatorAdminConfig``)."""

    def index(self, request, extra_context=None):
        app_list = self.get_app_list(request)
        sections = index_sections(app_list)
        visible = {
            _model_key(model): model["admin_url"]
            for section in sections
            for model in section["models"]
            if model.get("admin_url")
        }
        badges = failed_badges(visible)
        for section in sections:
            for model in section["models"]:
                model["badges"] = badges.get(_model_key(model), [])
        conversion = sections[0]
        if "customers.stagedasynccustomer" in visible:
            conversion["pages"].append(
                {
                    "name": "Customer synchronization status",
                    "url": reverse("admin:customers_sync_status", current_app=self.name),
                    "description": "Every async customer and address, by store",
                }
            )
        return super().index(request, {"sections": sections, **(extra_context or {})})
