"""Keeps HQ models on ``default`` and channel models on the channel aliases."""

from django.apps import apps

from commerce.db import HQ, is_channel_alias, is_channel_model


class ChannelDatabaseNotChosen(RuntimeError):
    """A channel model was written without naming its channel database."""


class DatabaseRouter:
    def _channel_db_from_hints(self, model, hints):
        instance = hints.get("instance")
        if instance is not None and is_channel_alias(instance._state.db or ""):
            return instance._state.db
        raise ChannelDatabaseNotChosen(
            f"{model._meta.label} lives in a channel database: "
            "use .using(alias) or save(using=alias)"
        )

    def db_for_read(self, model, **hints):
        if is_channel_model(model):
            return self._channel_db_from_hints(model, hints)
        return HQ

    def db_for_write(self, model, **hints):
        if is_channel_model(model):
            return self._channel_db_from_hints(model, hints)
        return HQ

    def allow_relation(self, obj1, obj2, **hints):
        if is_channel_model(type(obj1)) != is_channel_model(type(obj2)):
            return False
        return obj1._state.db == obj2._state.db

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if model_name is None:
            return db == HQ
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            # A model removed from the code: its historical operations run where
            # its table lived, which the db_table prefix still says.
            model = hints.get("model")
            channel = model is not None and model._meta.db_table.startswith("channel_")
            return is_channel_alias(db) if channel else db == HQ
        if is_channel_model(model):
            return is_channel_alias(db)
        return db == HQ
