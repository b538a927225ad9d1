from django.apps import AppConfig
from django.core import checks


class JobsConfig(AppConfig):
    name = "jobs"

    def ready(self):
        from jobs.services import job_specs_check

        checks.register(job_specs_check)
