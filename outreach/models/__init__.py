"""Outreach tables: email sequences and messages (`sending`), operator tasks (`operator_tasks`).

Django finds an app's models through its ``models`` module, so every model (and the choices and
constants that go with them) is named here explicitly."""

from .inbox import ReplyAnswer, ReplyRules  # noqa: F401
from .mailboxes import SECRET_NAMES, MailboxTransport, SendingMailbox, SmtpSecurity  # noqa: F401
from .operator_tasks import (  # noqa: F401  (the package names its models for Django)
    FINISHED_TASK_STATES,
    OPEN_TASK_STATES,
    MetricEntry,
    OperatorTask,
    OperatorTaskState,
    OperatorTaskType,
)
from .pacing import SendSchedule  # noqa: F401
from .sending import (  # noqa: F401
    CONFIRMING_EVENT_KINDS,
    PENDING_STATES,
    STOPPABLE_ENROLLMENT_STATES,
    CycleLease,
    Enrollment,
    EnrollmentState,
    InboundReply,
    Message,
    MessageEvent,
    MessageEventDailySummary,
    MessageEventKind,
    MessageState,
    ReplyMatch,
    ReplySenderMatch,
    SendResolution,
    Sequence,
    SequenceStep,
    StepVariant,
    StopReason,
)
