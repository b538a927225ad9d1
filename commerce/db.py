"""Database plumbing shared by every app: which alias is HQ, which are channels."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

HQ = "default"


class ChannelModel(models.Model):
    """Base for models that live in a channel (store-side) database, never in HQ."""

    is_channel_model = True

    class Meta:
        abstract = True


def channel_aliases() -> list[str]:
    return list(settings.CHANNEL_DATABASES)


def is_channel_alias(alias: str) -> bool:
    return alias in settings.CHANNEL_DATABASES


def require_channel_alias(alias: str) -> str:
    if not is_channel_alias(alias):
        configured = ", ".join(channel_aliases())
        raise ImproperlyConfigured(
            f"{alias!r} is not a configured channel database alias (configured: {configured})"
        )
    return alias


def is_channel_model(model) -> bool:
    return bool(getattr(model, "is_channel_model", False))
