import factory


class ChannelFactory(factory.django.DjangoModelFactory):
    """Creates channel-database rows; pass ``using="channel2"`` for another alias."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, using="channel", **kwargs):
        return model_class.objects.using(using).create(*args, **kwargs)
