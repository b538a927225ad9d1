"""Dates and times as operators read them in the admin: ISO dates, 24-hour times with
seconds (README "Admin"), the same on list and detail pages. Only display formats are
set; input formats stay Django's (ISO first)."""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i:s"
DATETIME_FORMAT = "Y-m-d H:i:s"
SHORT_DATETIME_FORMAT = "Y-m-d H:i:s"
