from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "commerce"

    def ready(self):
        from commerce.cli import command_line_setup
        from commerce.db import lookups  # noqa: F401  registers ``__in_values``

        command_line_setup()
