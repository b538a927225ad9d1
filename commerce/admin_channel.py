"""Admin classes for models that live in the channel databases.

Follows Django's "Exposing multiple databases in Django's admin interface", with the
database chosen per request instead of fixed per class: the router refuses to guess
which channel database a channel model belongs to, so every read and write these
classes make names the alias.

Where the alias comes from:
- the changelist: the "Channel database" list filter, ``?channel_db=<alias>``
  (default: the first configured alias);
- the change, add, delete and history pages: the changelist filters Django preserves
  in ``?_changelist_filters=...``, which always carry ``channel_db`` (see
  ``get_preserved_filters``); a plain ``?channel_db=<alias>`` works there too.

Django's admin asks the router for "the" database of a model in a few places
(``transaction.atomic`` around the change and delete views, the deleted-objects
collector, the inline "delete" check, the model's unique checks); those are
overridden here. ``list_editable`` is not supported on these classes.

The admin log (``LogEntry``) keys an entry by content type and object id only, and two
channel databases hold different rows with the same id. These classes write the alias
at the start of ``object_repr`` ("[channel2] S0002-1-000001") and the history page
lists the entries of its own database only.
"""

import json
from urllib.parse import parse_qsl, urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.admin.options import get_content_type_for_model
from django.contrib.admin.utils import NestedObjects, quote
from django.contrib.admin.views.main import PAGE_VAR
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Q
from django.forms.formsets import DELETION_FIELD_NAME
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from commerce.admin_display import ChoicesFilter
from commerce.db import (
    ChannelDatabaseUnreachable,
    channel_aliases,
    channel_database_check,
    is_channel_alias,
)
from commerce.models import ChannelDatabase

CHANNEL_DB_PARAM = "channel_db"
PRESERVED_FILTERS_PARAM = "_changelist_filters"


def channel_alias_from_request(request) -> str:
    """The channel database alias a request works on; 404 for an unknown alias."""
    alias = request.GET.get(CHANNEL_DB_PARAM)
    if alias is None:
        preserved = QueryDict(request.GET.get(PRESERVED_FILTERS_PARAM, ""))
        alias = preserved.get(CHANNEL_DB_PARAM)
    if alias is None:
        return channel_aliases()[0]
    if not is_channel_alias(alias):
        raise Http404(f"{alias!r} is not a configured channel database")
    return alias


def channel_database_labels(request) -> dict[str, str]:
    """Alias -> "NAME (alias)" for every configured alias; one HQ query per request."""
    labels = getattr(request, "_channel_database_labels", None)
    if labels is None:
        names = dict(ChannelDatabase.objects.values_list("alias", "name"))
        labels = {
            alias: f"{names[alias]} ({alias})" if alias in names else alias
            for alias in channel_aliases()
        }
        request._channel_database_labels = labels
    return labels


def channel_database_unreachable(request, alias: str) -> ChannelDatabaseUnreachable | None:
    """Why channel database ``alias`` cannot be reached, or None; asked once a request."""
    checked = request.__dict__.setdefault("_channel_databases_unreachable", {})
    if alias not in checked:
        name = ChannelDatabase.objects.filter(alias=alias).values_list("name", flat=True).first()
        try:
            channel_database_check(alias, name=name)
        except ChannelDatabaseUnreachable as error:
            checked[alias] = error
        else:
            checked[alias] = None
    return checked[alias]


def channel_query_string(alias: str) -> str:
    """The query string that opens a change/add/delete page in ``alias``."""
    return urlencode({PRESERVED_FILTERS_PARAM: urlencode({CHANNEL_DB_PARAM: alias})})


def channel_log_prefix(alias: str) -> str:
    """How an admin log entry of a channel row starts its ``object_repr``."""
    return f"[{alias}] "


def channel_change_url(obj, alias: str | None = None) -> str:
    """Admin change page of a channel row, in the database it was read from."""
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])
    return f"{url}?{channel_query_string(alias or obj._state.db)}"


def channel_changelist_url(model, alias: str, **filters) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{url}?{urlencode({CHANNEL_DB_PARAM: alias, **filters})}"


class ChannelDatabaseFilter(admin.SimpleListFilter):
    """Chooses the channel database a changelist reads; there is no "All"."""

    title = "channel database"
    parameter_name = CHANNEL_DB_PARAM

    def lookups(self, request, model_admin):
        return list(channel_database_labels(request).items())

    def queryset(self, request, queryset):
        # ChannelModelAdmin.get_queryset already reads the chosen database.
        return queryset

    def choices(self, changelist):
        current = self.value() or channel_aliases()[0]
        for alias, label in self.lookup_choices:
            yield {
                "selected": alias == current,
                "query_string": changelist.get_query_string({self.parameter_name: alias}),
                "display": label,
            }


class UploadedFilter(ChoicesFilter):
    """Whether the upload (P-0001) has carried a channel row to HQ."""

    title = "uploaded"
    parameter_name = "uploaded"
    options = {
        "yes": ("Uploaded", Q(upload_session_id__isnull=False)),
        "no": ("Pending upload", Q(upload_session_id__isnull=True)),
    }


class ChannelForeignKeyRawIdWidget(widgets.ForeignKeyRawIdWidget):
    """Raw-id widget whose lookup popup and link open the same channel database."""

    def url_parameters(self):
        return {**super().url_parameters(), CHANNEL_DB_PARAM: self.db}

    def label_and_url_for_value(self, value):
        label, url = super().label_and_url_for_value(value)
        if url:
            url = f"{url}?{channel_query_string(self.db)}"
        return label, url


class ChannelModelForm(forms.ModelForm):
    """A model form bound to one channel database (``channel_alias``, set per request)."""

    channel_alias: str | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance._state.db is None:
            # A new row: the router reads the database from the instance's state,
            # for the save and for the model's constraint validation.
            self.instance._state.db = self.channel_alias

    def validate_unique(self):
        """Model.validate_unique without the router: the same checks, in this database."""
        instance = self.instance
        unique_checks, _ = instance._get_unique_checks(exclude=self._get_validation_exclusions())
        errors: dict[str, list] = {}
        for model_class, field_names in unique_checks:
            lookup = {}
            for name in field_names:
                field = instance._meta.get_field(name)
                value = getattr(instance, field.attname)
                if value is None or (field.primary_key and not instance._state.adding):
                    break
                lookup[name] = value
            else:
                queryset = model_class._default_manager.using(self.channel_alias).filter(**lookup)
                if not instance._state.adding and instance.pk is not None:
                    queryset = queryset.exclude(pk=instance.pk)
                if queryset.exists():
                    key = field_names[0] if len(field_names) == 1 else NON_FIELD_ERRORS
                    errors.setdefault(key, []).append(
                        instance.unique_error_message(model_class, field_names)
                    )
        if errors:
            self._update_errors(ValidationError(errors))

    def _update_errors(self, errors):
        """A key unique within a scope (a transaction id within its store): its error goes
        next to the id, the constraint's last field, rather than above the form."""
        if hasattr(errors, "error_dict") and NON_FIELD_ERRORS in errors.error_dict:
            kept = []
            for error in errors.error_dict[NON_FIELD_ERRORS]:
                fields = (error.params or {}).get("unique_check") or ()
                if error.code == "unique_together" and fields and fields[-1] in self.fields:
                    errors.error_dict.setdefault(fields[-1], []).append(error)
                else:
                    kept.append(error)
            if kept:
                errors.error_dict[NON_FIELD_ERRORS] = kept
            else:
                del errors.error_dict[NON_FIELD_ERRORS]
        super()._update_errors(errors)


def _channel_hand_clean_delete(form):
    """InlineModelAdmin's protected-delete check, in the form's channel database."""
    if not form.cleaned_data.get(DELETION_FIELD_NAME, False) or form.instance._state.adding:
        return
    collector = NestedObjects(using=form.channel_alias)
    collector.collect([form.instance])
    if collector.protected:
        related = ", ".join(f"{p._meta.verbose_name} {p}" for p in collector.protected)
        raise ValidationError(
            f"Deleting {form._meta.model._meta.verbose_name} {form.instance} would require "
            f"deleting the following protected related objects: {related}",
            code="deleting_protected",
        )


class ChannelAliasMixin:
    """What ChannelModelAdmin and the channel inlines share."""

    form = ChannelModelForm

    def channel_alias(self, request) -> str:
        return channel_alias_from_request(request)

    def channel_unreachable(self, request) -> ChannelDatabaseUnreachable | None:
        return channel_database_unreachable(request, self.channel_alias(request))

    def get_queryset(self, request):
        queryset = super().get_queryset(request).using(self.channel_alias(request))
        # A database that cannot be reached lists nothing: an empty queryset never
        # connects, so the page (its filters and counts too) still renders.
        return queryset.none() if self.channel_unreachable(request) else queryset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        alias = self.channel_alias(request)
        if db_field.name in self.raw_id_fields and "widget" not in kwargs:
            kwargs["widget"] = ChannelForeignKeyRawIdWidget(
                db_field.remote_field, self.admin_site, using=alias
            )
        return super().formfield_for_foreignkey(db_field, request, using=alias, **kwargs)


class ChannelInlineMixin(ChannelAliasMixin):
    """Mix into TabularInline/StackedInline for a channel model's children."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # inlineformset_factory builds a fresh form class on every call, so setting
        # attributes on it affects this request only.
        formset.form.channel_alias = self.channel_alias(request)
        formset.form.hand_clean_DELETE = _channel_hand_clean_delete
        return formset


class ChannelTabularInline(ChannelInlineMixin, admin.TabularInline):
    pass


class ChannelModelAdmin(ChannelAliasMixin, admin.ModelAdmin):
    """ModelAdmin for a ``commerce.db.ChannelModel``: reads and writes the channel
    database the request chose, and names it in a list filter and under the title."""

    change_form_template = "admin/channel_change_form.html"
    change_list_template = "admin/channel_change_list.html"

    def get_list_filter(self, request):
        return [ChannelDatabaseFilter, *super().get_list_filter(request)]

    def changelist_view(self, request, extra_context=None):
        # Every row of the list is of the one channel database the filter chose: it is
        # named once, under the title, rather than in a column of its own.
        label = channel_database_labels(request)[self.channel_alias(request)]
        extra_context = {
            "subtitle": f"Channel database {label}",
            "channel_unreachable": self.channel_unreachable(request),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    def unreachable_redirect(self, request) -> HttpResponseRedirect | None:
        """A row's pages (change, add, delete, history) of a database that cannot be
        reached: back to the list, which names the database, with the reason."""
        unreachable = self.channel_unreachable(request)
        if unreachable is None:
            return None
        self.message_user(request, f"{unreachable.cannot_be_reached}.", messages.ERROR)
        return HttpResponseRedirect(channel_changelist_url(self.model, self.channel_alias(request)))

    def get_preserved_filters(self, request):
        """Always carry the alias to the change/add/delete pages and back."""
        if not self.preserve_filters:
            return super().get_preserved_filters(request)
        preserved = QueryDict(super().get_preserved_filters(request))
        filters = dict(parse_qsl(preserved.get(PRESERVED_FILTERS_PARAM, "")))
        filters.setdefault(CHANNEL_DB_PARAM, self.channel_alias(request))
        return urlencode({PRESERVED_FILTERS_PARAM: urlencode(filters)})

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # modelform_factory builds a fresh class on every call: per request.
        form.channel_alias = self.channel_alias(request)
        return form

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.pop(PRESERVED_FILTERS_PARAM, None)
        initial.pop(CHANNEL_DB_PARAM, None)
        return initial

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if unreachable := self.unreachable_redirect(request):
            return unreachable
        extra_context = {
            **(extra_context or {}),
            "channel_database": channel_database_labels(request)[self.channel_alias(request)],
        }
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return self._changeform_view(request, object_id, form_url, extra_context)
        with transaction.atomic(using=self.channel_alias(request)):
            return self._changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        if unreachable := self.unreachable_redirect(request):
            return unreachable
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return self._delete_view(request, object_id, extra_context)
        with transaction.atomic(using=self.channel_alias(request)):
            return self._delete_view(request, object_id, extra_context)

    def save_model(self, request, obj, form, change):
        obj.save(using=self.channel_alias(request))

    def delete_model(self, request, obj):
        obj.delete(using=self.channel_alias(request))

    # --- Admin log, per channel database ------------------------------------------

    def _log_entries(self, request, objs, action_flag, change_message="") -> list[LogEntry]:
        """LogEntryManager.log_actions, with the row's channel alias in object_repr."""
        if isinstance(change_message, list):
            change_message = json.dumps(change_message)
        alias = self.channel_alias(request)
        return LogEntry.objects.bulk_create(
            [
                LogEntry(
                    user_id=request.user.pk,
                    content_type_id=get_content_type_for_model(obj).pk,
                    object_id=obj.pk,
                    object_repr=f"{channel_log_prefix(obj._state.db or alias)}{obj}"[:200],
                    action_flag=action_flag,
                    change_message=change_message,
                )
                for obj in objs
            ]
        )

    def log_addition(self, request, obj, message):
        return self._log_entries(request, [obj], ADDITION, message)[0]

    def log_change(self, request, obj, message):
        return self._log_entries(request, [obj], CHANGE, message)[0]

    def log_deletions(self, request, queryset):
        return self._log_entries(request, queryset, DELETION)

    def history_view(self, request, object_id, extra_context=None):
        """Django's history page, listing only the log entries of this channel database."""
        if unreachable := self.unreachable_redirect(request):
            return unreachable
        response = super().history_view(request, object_id, extra_context)
        context = getattr(response, "context_data", None)
        if not context or "action_list" not in context:
            return response  # a redirect (no such row) or a refusal
        entries = context["action_list"].paginator.object_list.filter(
            object_repr__startswith=channel_log_prefix(self.channel_alias(request))
        )
        paginator = self.get_paginator(request, entries, 100)
        page = paginator.get_page(request.GET.get(PAGE_VAR, 1))
        context.update(
            action_list=page,
            page_range=paginator.get_elided_page_range(page.number),
            pagination_required=paginator.count > 100,
        )
        return response

    def get_deleted_objects(self, objs, request):
        """django.contrib.admin.utils.get_deleted_objects, collecting in this database."""
        alias = self.channel_alias(request)
        collector = NestedObjects(using=alias, origin=objs)
        collector.collect(objs)
        perms_needed = set()

        def format_callback(obj):
            opts = obj._meta
            plain = f"{capfirst(opts.verbose_name)}: {obj}"
            if not self.admin_site.is_registered(obj.__class__):
                return plain
            if not self.admin_site.get_model_admin(obj.__class__).has_delete_permission(
                request, obj
            ):
                perms_needed.add(opts.verbose_name)
            try:
                url = channel_change_url(obj, alias)
            except NoReverseMatch:
                return plain
            return format_html('{}: <a href="{}">{}</a>', capfirst(opts.verbose_name), url, obj)

        to_delete = collector.nested(format_callback)
        protected = [format_callback(obj) for obj in collector.protected]
        model_count = {
            model._meta.verbose_name_plural: len(objs)
            for model, objs in collector.model_objs.items()
        }
        return to_delete, model_count, perms_needed, protected
