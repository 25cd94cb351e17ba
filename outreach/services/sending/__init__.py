"""Email execution: sequences, enrollment, scheduling, claiming and sending, with every safety
check re-made under lock just before a message goes out.

Flow per campaign: ``enroll_leads`` → ``schedule_due_messages`` (renders one Message per due
enrollment step; the unique (enrollment, step) key makes it idempotent) → ``send_due_messages``
(claims under the campaign's row lock: a pure gate — state, pause, quiet hours, caps, budget — a
pure router — contactability, send windows, mailbox caps — and one writer; each claim takes only as
many messages as there are free send threads and hands them over at once, a sliding window of
OUTREACH_SEND_CONCURRENCY calls; outcomes are recorded in short transactions of their own). A claim
covers only what starts at once, so a crash leaves at most the calls in flight `sending`;
``recover_interrupted_sends`` makes it `unknown` and settles it as sent once a provider event
confirms it or a window passes, and books what a crash left unbooked.

One module per concern (each name is defined in exactly one; import it from here):

- ``sequences``: create_sequence, enroll_leads, schedule_due_messages (and the merge context)
- ``caps``: the daily cap by local date, mailbox caps, quiet hours, scheduling_room
- ``budget``: an email's cost, what the budget still pays for, book_sent_costs
- ``claims``: the pure gate (send_gate), the pure router (route_messages), the one writer, the claim
- ``delivery``: send_due_messages — the sliding window of calls, outcomes recorded, enrollments
  moved on; wait_for_calls_in_flight (a stop returns once they are recorded)
- ``provider``: the email built, and the calls, OUTREACH_SEND_CONCURRENCY of them at once
- ``recovery``: recover_interrupted_sends, settle_unknown_messages
- ``stops``: stop_enrollments, stop_enrollments_of_lead, cancel_campaign_outreach
- ``row_updates``: the grouped UPDATEs they share
"""

from .budget import book_sent_costs
from .caps import scheduling_room
from .claims import SYSTEM_PAUSED, Routing, SendGate, SendStats, route_messages, send_gate
from .delivery import SlicePace, send_due_messages, wait_for_calls_in_flight
from .recovery import RecoveryReport, recover_interrupted_sends, settle_unknown_messages
from .sequences import create_sequence, enroll_leads, preview_context_for_lead, schedule_due_messages
from .stops import cancel_campaign_outreach, stop_enrollments, stop_enrollments_of_lead

__all__ = [
    "SYSTEM_PAUSED",
    "RecoveryReport",
    "Routing",
    "SendGate",
    "SendStats",
    "SlicePace",
    "book_sent_costs",
    "cancel_campaign_outreach",
    "create_sequence",
    "enroll_leads",
    "preview_context_for_lead",
    "recover_interrupted_sends",
    "route_messages",
    "schedule_due_messages",
    "scheduling_room",
    "send_due_messages",
    "send_gate",
    "settle_unknown_messages",
    "stop_enrollments",
    "stop_enrollments_of_lead",
    "wait_for_calls_in_flight",
]
