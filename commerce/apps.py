from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "commerce"

    def ready(self):
        from commerce import lookups  # noqa: F401  registers ``__in_values``
