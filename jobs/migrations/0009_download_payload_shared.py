"""Download sessions point to a shared payload kept as text (README "Distribution").

Each existing session's JSON payload becomes a payload row of its own (its key is
``session-<id>``, which no new set's key can be), with the same canonical text and
checksum, so what a session carried is still shown and erasable."""

import hashlib
import json

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def payloads_from_sessions(apps, schema_editor):
    DownloadSession = apps.get_model("jobs", "DownloadSession")
    DownloadPayload = apps.get_model("jobs", "DownloadPayload")
    alias = schema_editor.connection.alias
    sessions = DownloadSession.objects.using(alias).only("pk", "old_payload", "created_at")
    for session in sessions.iterator(chunk_size=500):
        value = session.old_payload or {}
        text = json.dumps(value, sort_keys=True)
        payload = DownloadPayload.objects.using(alias).create(
            key=f"session-{session.pk}",
            text=text,
            checksum=hashlib.sha256(text.encode()).hexdigest(),
            customers=len(value.get("customers", ())),
            created_at=session.created_at,
        )
        DownloadSession.objects.using(alias).filter(pk=session.pk).update(payload=payload)


def sessions_from_payloads(apps, schema_editor):
    DownloadSession = apps.get_model("jobs", "DownloadSession")
    alias = schema_editor.connection.alias
    for session in (
        DownloadSession.objects.using(alias).select_related("payload").iterator(chunk_size=500)
    ):
        value = json.loads(session.payload.text) if session.payload_id else {}
        DownloadSession.objects.using(alias).filter(pk=session.pk).update(old_payload=value)


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0008_job_run_held"),
    ]

    operations = [
        migrations.CreateModel(
            name="DownloadPayload",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=64, unique=True)),
                ("text", models.TextField()),
                ("checksum", models.CharField(max_length=64)),
                ("customers", models.PositiveIntegerField(default=0)),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
            ],
            options={"ordering": ["-id"]},
        ),
        migrations.RenameField(
            model_name="downloadsession", old_name="payload", new_name="old_payload"
        ),
        migrations.AddField(
            model_name="downloadsession",
            name="payload",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="sessions",
                to="jobs.downloadpayload",
            ),
        ),
        migrations.RunPython(payloads_from_sessions, sessions_from_payloads),
        migrations.RemoveField(model_name="downloadsession", name="old_payload"),
    ]
