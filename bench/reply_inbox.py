"""Reply inbox benchmark: N mailboxes x M new replies on a loopback Dovecot, polled for real.

Builds one live campaign with NxM sent messages, starts a throwaway Dovecot (the test suite's, from
the system packages) and APPENDs to each mailbox's folder M replies to those messages, from the
leads, in the shapes the classifier sees (interested, meeting request, question, not interested,
please remove me, out of office with and without a date, wrong person, other). Then prints:

- bare: a bare imapclient fetch of the same emails (login, select, search, ``BODY.PEEK[]`` in
  batches of 100, no parsing): the floor of the cost, messages/s;
- classify: the configured classifier alone on the parsed emails (no database), messages/s, and its
  cost per message (0 for the offline classifier; an LLM's booked cost otherwise);
- poll: ``poll_all_mailboxes()``: fetch, parse, classify, match, store and act (lead replied,
  sequence stopped, operator tasks, suppressions, OOO waits, audit), messages/s and the ratio to
  bare;

then checks the outcome: one reply per email, each matched by its thread. Not a test: no
assertions on time.

    scripts/run-bench.sh bench/reply_inbox.py [--mailboxes 10] [--messages 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import random
import ssl
import sys
import time
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aicmo_site.settings")

TEXTS = [
    ("Yes, I'm interested. Tell me more about how it works.", {}),
    ("Could we set up a call next Tuesday at 3pm?", {}),
    ("How much does it cost per month?", {}),
    ("No thanks, we're not interested.", {}),
    ("Please remove me from your mailing list.", {}),
    ("I am out of the office until Monday 16 March 2026.", {"Auto-Submitted": "auto-replied"}),
    ("I'm currently away with limited access to email.", {"Auto-Submitted": "auto-replied"}),
    ("I'm not the right person. Please contact jo.bloggs@{domain} instead.", {}),
    ("Thanks.", {}),
]


def reply_bytes(message, n: int, rng: random.Random) -> bytes:
    text, headers = rng.choice(TEXTS)
    mail = EmailMessage(policy=SMTP)
    mail["From"] = message.to_email
    mail["To"] = message.from_email
    auto = "Auto-Submitted" in headers
    mail["Subject"] = ("Automatic reply: " if auto else "Re: ") + message.subject
    mail["Date"] = "Mon, 02 Mar 2026 11:00:00 +0000"
    mail["Message-ID"] = f"<bench-{n}@client.example>"
    mail["In-Reply-To"] = message.rfc_message_id
    mail["References"] = message.rfc_message_id
    for name, value in headers.items():
        mail[name] = value
    mail.set_content(text.format(domain=message.to_email.rpartition("@")[2]))
    return mail.as_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mailboxes", type=int, default=10)
    parser.add_argument("--messages", type=int, default=1000, help="new replies per mailbox")
    args = parser.parse_args()

    import django

    django.setup()
    logging.disable(logging.WARNING)
    from cryptography.fernet import Fernet
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from imapclient import IMAPClient

    settings.AICMO_COST_PER_EMAIL = 0
    settings.AICMO_SECRET_KEYS = Fernet.generate_key().decode()
    call_command("migrate", verbosity=0)

    import time_machine

    from bench.support import SerializingBackend, make_live_campaign
    from outreach.models import InboundReply, Message, MessageState, ReplyMatch, SendingMailbox
    from outreach.services.inbox.fetch import poll_all_mailboxes
    from outreach.services.inbox.ingest import classify_parsed
    from outreach.services.inbox.parsing import parse_email
    from outreach.services.sending import enroll_leads, schedule_due_messages, send_due_messages
    from tests.outreach.inbox.dovecot import HOST, PASSWORD, start_dovecot

    time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), tick=True).start()
    total = args.mailboxes * args.messages
    print(f"database: {connection.vendor}; {args.mailboxes} mailboxes x {args.messages} new replies")
    started = time.perf_counter()
    campaign, sequence = make_live_campaign(random.randint(20_000, 10**9), leads=total, cap=total + 10)
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    send_due_messages(campaign_id=campaign.pk, dry_run=False, chunk_size=500, connection=SerializingBackend())
    messages = list(Message.objects.filter(campaign=campaign, state=MessageState.SENT).order_by("id"))
    rng = random.Random(20)
    server = start_dovecot()
    settings.AICMO_IMAP_CA_FILE = server.ca_file
    context = ssl.create_default_context(cafile=server.ca_file)
    try:
        SendingMailbox.objects.filter(imap_host=HOST).update(imap_host="")  # earlier runs' servers are gone
        users, raws = [], []
        for b in range(args.mailboxes):
            user = f"bench-{campaign.pk}-{b}@agency.example"
            mailbox = SendingMailbox(
                email=user, imap_host=HOST, imap_port=server.ssl_port, imap_username=user
            )
            mailbox.set_secret("imap_password", PASSWORD)
            mailbox.save()
            chunk = messages[b * args.messages : (b + 1) * args.messages]
            emails = [reply_bytes(m, b * args.messages + i, rng) for i, m in enumerate(chunk)]
            with IMAPClient(HOST, port=server.ssl_port, ssl_context=context) as imap:
                imap.login(user, PASSWORD)
                for raw in emails:
                    imap.append("INBOX", raw)
            users.append(user)
            raws.extend(emails)
        elapsed = time.perf_counter() - started
        print(f"set-up: {len(messages)} sent, {len(raws)} replies appended, {elapsed:.1f} s")

        # bare: the same emails fetched with imapclient, nothing else
        t0 = time.perf_counter()
        fetched = 0
        for user in users:
            with IMAPClient(HOST, port=server.ssl_port, ssl_context=context) as imap:
                imap.login(user, PASSWORD)
                imap.select_folder("INBOX", readonly=True)
                uids = imap.search(["ALL"])
                for i in range(0, len(uids), 100):
                    fetched += len(imap.fetch(uids[i : i + 100], ["BODY.PEEK[]"]))
        bare = time.perf_counter() - t0

        # classify: the classifier alone, on already parsed emails
        parsed = [parse_email(raw) for raw in raws]
        t0 = time.perf_counter()
        verdicts = [classify_parsed(p) for p in parsed]
        classify = time.perf_counter() - t0
        cost = sum((getattr(v, "cost", 0) or 0) for v in verdicts)

        t0 = time.perf_counter()
        results = poll_all_mailboxes()
        poll = time.perf_counter() - t0
    finally:
        server.stop()

    recorded = sum(r.recorded for r in results)
    errors = [r.error for r in results if r.error]
    print(f"bare:     {fetched} emails in {bare:.2f} s = {fetched / bare:,.0f} msg/s (imapclient fetch only)")
    print(f"classify: {len(verdicts)} emails in {classify:.2f} s = {len(verdicts) / classify:,.0f} msg/s; "
          f"cost per message {cost / max(len(verdicts), 1):.6f}")  # fmt: skip
    print(f"poll:     {recorded} emails in {poll:.2f} s = {recorded / poll:,.0f} msg/s "
          f"(fetched and classified, stored, acted on); {poll / bare:.1f}x the bare fetch")  # fmt: skip
    replies = InboundReply.objects.filter(campaign=campaign)
    by_thread = replies.filter(matched_by=ReplyMatch.THREAD).count()
    counts = {}
    for category in replies.values_list("category", flat=True):
        counts[category] = counts.get(category, 0) + 1
    print(f"check: {replies.count()} replies ({by_thread} by thread), errors {errors or 'none'}; {counts}")
    if recorded != total or by_thread != total:
        raise SystemExit(f"expected {total} replies matched by thread")


if __name__ == "__main__":
    main()
