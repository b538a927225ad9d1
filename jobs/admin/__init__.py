"""Admin for job runs (R10) and the sessions that move data between HQ and the channel
databases. Everything here is written by the jobs, so every page is read-only.

Scopes and parameters are shown in words ("channel database HOUSTON", "3 selected
staged async customers", each named on the run's page) and the GUIDs in a run's errors
by the name of their staged record; the scope key stays under the words, as the
commands and the search know it.

The job runs list and a run's page refresh themselves every few seconds while a run
they show is queued or running (``templates/admin/jobs/jobrun/``). The actions that
request jobs live on the pages of what they act on (channel databases, stores,
transactions, staged customers); see ``jobs.admin_actions``; those of the commerce
pages are registered by ``jobs.admin_commerce``, imported here.

One module per concern: ``runs`` (the job runs list and a run's page), ``sessions`` (the
upload and download sessions, distribution state, scope checks and demands) and
``shared`` (what both show alike).
"""

from jobs import admin_commerce  # noqa: F401  (the job actions of the commerce pages)
from jobs.admin import runs, sessions  # noqa: F401  (register their pages)
