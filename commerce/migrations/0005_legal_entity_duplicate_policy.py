from django.db import migrations, models


class Migration(migrations.Migration):
    """R12: each legal entity's duplicate policy, "create" (the default) or "review"."""

    dependencies = [
        ("commerce", "0004_transaction_id_per_store_statement_sequence"),
    ]

    operations = [
        migrations.AddField(
            model_name="legalentity",
            name="duplicate_policy",
            field=models.CharField(
                choices=[
                    ("create", "Create the account and list the possible duplicate"),
                    ("review", "Hold the record for review (needs review)"),
                ],
                default="create",
                help_text="R12: an async customer with the same email, phone or name and zip as "
                "a customer of this legal entity is created and listed, or held for review.",
                max_length=10,
            ),
        ),
        migrations.AddConstraint(
            model_name="legalentity",
            constraint=models.CheckConstraint(
                condition=models.Q(("duplicate_policy__in", ["create", "review"])),
                name="legal_entity_duplicate_policy_valid",
            ),
        ),
    ]
