from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0009_mailbox_transport_and_readiness"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="reply_to",
            field=models.CharField(
                blank=True,
                help_text="The mailbox's reply-to, else the sender identity's; empty: none.",
                max_length=320,
            ),
        ),
    ]
