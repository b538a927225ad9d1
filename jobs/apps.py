from django.apps import AppConfig
from django.core import checks


class JobsConfig(AppConfig):
    name = "jobs"

    def ready(self):
        from commerce.signals import store_data_written
        from jobs import receivers
        from jobs.services import job_specs_check

        checks.register(job_specs_check)
        store_data_written.connect(
            receivers.conversion_trigger_on_store_write,
            dispatch_uid="jobs.conversion_trigger_on_store_write",
        )
