"""The event log (README "Event log") as pages of its own: every event of HQ, and every
event of a store in its channel database, read only. The timelines read the same rows
(``customers.admin.timeline``); these pages are for searching across records."""

from django.contrib import admin
from django.utils.html import format_html_join

from commerce.admin.statements import ViewOnlyMixin
from commerce.admin_channel import ChannelModelAdmin
from commerce.events import ChannelEvent, Event


class EventAdminMixin(ViewOnlyMixin):
    list_display = [
        "at_seconds",
        "subject",
        "account",
        "action",
        "actor",
        "detail",
        "changes_shown",
    ]
    list_filter = ["action", "kind"]
    search_fields = ["key", "account", "actor"]
    date_hierarchy = "at"
    list_per_page = 100
    ordering = ["-at", "-id"]  # the latest first; a timeline reads oldest first
    show_full_result_count = False
    fields = [
        "at_seconds",
        "subject",
        "channel_database",
        "account",
        "action",
        "actor",
        "detail",
        "changes_shown",
        "session",
        "version",
    ]

    @admin.display(description="when", ordering="at")
    def at_seconds(self, obj):
        return obj.at.strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description="record", ordering="key")
    def subject(self, obj):
        return f"{obj.get_kind_display().capitalize()} {obj.key}"

    @admin.display(description="changes")
    def changes_shown(self, obj):
        # A fix's fields as "label: old → new", never as JSON.
        return format_html_join(
            "", "<div>{}: {} → {}</div>", ((c[0], c[1], c[2]) for c in obj.changes or [])
        )


@admin.register(Event)
class EventAdmin(EventAdminMixin, admin.ModelAdmin):
    pass


@admin.register(ChannelEvent)
class ChannelEventAdmin(EventAdminMixin, ChannelModelAdmin):
    pass
