"""Issue 16 point 5: the campaign cycles one worker process runs at once share its send threads —
OUTREACH_SEND_CONCURRENCY calls in flight for the whole process, not per cycle — so one cycle's calls
fill the threads while another claims or records, and a crash still leaves at most that many
calls uncertain."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection as db_connection

from outreach.models import Message, MessageState
from outreach.services.sending import send_due_messages

from .test_overlapped_calls import OverlappingESP, due

BACKEND = f"{__name__}.TimedESP"


class TimedESP(OverlappingESP):
    """The same ESP, which also notes when each call began and ended."""

    spans: list[tuple[int, float, float]] = []

    def send_messages(self, email_messages):
        began = time.monotonic()
        try:
            return super().send_messages(email_messages)
        finally:
            (email,) = email_messages
            with self.esp.lock:
                TimedESP.spans.append((int(email.metadata["aicmo_message_id"]), began, time.monotonic()))


@pytest.fixture
def timed_esp(settings):
    settings.EMAIL_BACKEND = BACKEND
    settings.OUTREACH_SEND_CONCURRENCY = 4
    TimedESP.spans = []
    TimedESP.reset(delay=0.05)
    return TimedESP


def send_at_once(campaigns) -> dict:
    """Each campaign's send run on a thread of its own, like the cycles of one worker process."""
    results, errors = {}, []

    def run(campaign):
        try:
            results[campaign.pk] = send_due_messages(campaign_id=campaign.pk, dry_run=False)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            db_connection.close()

    runners = [threading.Thread(target=run, args=(campaign,)) for campaign in campaigns]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(60)
    assert errors == []
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_in_one_process_share_its_send_threads_and_overlap(live_campaign, timed_esp):
    first, second = due(live_campaign, 12), due(live_campaign, 12)
    # Calls slow enough that one run's 12 outlast the other's start (a new connection and its first
    # claim): at 50 ms the first run was done before the second claimed on a busy machine.
    timed_esp.reset(delay=0.2)

    results = send_at_once([first, second])

    assert results[first.pk].sent == 12 and results[second.pk].sent == 12
    # Four threads for the process: never more than four calls in flight, though each run alone
    # would fill four.
    assert timed_esp.esp.peak == 4
    assert sorted(timed_esp.esp.journal) == sorted(Message.objects.values_list("pk", flat=True))
    assert Message.objects.filter(state=MessageState.SENT).count() == 24
    # The runs overlapped: a call of one campaign was in flight while one of the other was.
    campaign_of = dict(Message.objects.values_list("pk", "campaign_id"))
    spans = {first.pk: [], second.pk: []}
    for message_id, began, ended in timed_esp.spans:
        spans[campaign_of[message_id]].append((began, ended))
    assert any(
        began_a < ended_b and began_b < ended_a
        for began_a, ended_a in spans[first.pk]
        for began_b, ended_b in spans[second.pk]
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_whose_process_threads_are_all_busy_waits_for_one_and_sends_everything(
    live_campaign, timed_esp
):
    campaigns = [due(live_campaign, 6) for _ in range(5)]  # five runs, four threads

    results = send_at_once(campaigns)

    assert [results[campaign.pk].sent for campaign in campaigns] == [6] * 5
    assert timed_esp.esp.peak <= 4
    assert len(timed_esp.esp.journal) == len(set(timed_esp.esp.journal)) == 30
