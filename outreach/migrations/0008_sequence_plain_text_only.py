from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0007_sendingmailbox_verbose_name_plural"),
    ]

    operations = [
        migrations.AddField(
            model_name="sequence",
            name="plain_text_only",
            field=models.BooleanField(
                default=True,
                help_text="Send the plain-text part only, no HTML (recommended for cold outreach).",
            ),
        ),
    ]
