"""The admin app with the operator's site (``jobs.admin_site``) as ``admin.site``.

Its own module: INSTALLED_APPS imports it before the models are loaded, so it names
the site by path only (Django's documented way to replace the default admin site).
"""

from django.contrib.admin.apps import AdminConfig


class OperatorAdminConfig(AdminConfig):
    default_site = "jobs.admin_site.OperatorAdminSite"
