# Written by hand (issue 18 pts 3 and 4): mailbox pools per sequence, warm-up per mailbox, and the
# thread headers of follow-ups. Existing mailboxes get no warm-up date: they keep their full cap.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0011_reply_inbox"),
    ]

    operations = [
        migrations.AddField(
            model_name="sendingmailbox",
            name="warmup_started_on",
            field=models.DateField(
                blank=True,
                help_text="Empty: no warm-up (the full daily cap from day one).",
                null=True,
                verbose_name="warm-up started on",
            ),
        ),
        migrations.AddField(
            model_name="sendingmailbox",
            name="warmup_start_volume",
            field=models.PositiveIntegerField(
                default=5, help_text="Emails on the warm-up's first day.", verbose_name="warm-up start volume"
            ),
        ),
        migrations.AddField(
            model_name="sendingmailbox",
            name="warmup_daily_increase",
            field=models.PositiveIntegerField(
                default=2,
                help_text="Emails added each day until the daily cap.",
                verbose_name="warm-up daily increase",
            ),
        ),
        migrations.AddField(
            model_name="sequence",
            name="mailboxes",
            field=models.ManyToManyField(
                blank=True,
                help_text="More mailboxes to rotate first emails over, beside the mailbox above.",
                related_name="pool_sequences",
                to="outreach.sendingmailbox",
                verbose_name="mailbox pool",
            ),
        ),
        migrations.AddField(
            model_name="message",
            name="in_reply_to",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="message",
            name="references",
            field=models.TextField(blank=True),
        ),
    ]
