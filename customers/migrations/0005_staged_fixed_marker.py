import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _fixed_fields(model_name):
    return [
        migrations.AddField(
            model_name=model_name,
            name="fixed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name=model_name,
            name="fixed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]


class Migration(migrations.Migration):
    """The last fix a person saved on a failed staged record (R5): "fixed, not sent"."""

    dependencies = [
        ("customers", "0004_channel_requests"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        *_fixed_fields("stagedasynccustomer"),
        *_fixed_fields("stagedasyncaddress"),
        *_fixed_fields("stagedchannelrequest"),
    ]
