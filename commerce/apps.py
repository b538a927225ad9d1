from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "commerce"

    def ready(self):
        from commerce.db import lookups  # noqa: F401  registers ``__in_values``
        from commerce.cli import command_line_setup

        command_line_setup()
