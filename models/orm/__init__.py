"""Every table of the application, on one DeclarativeBase."""

from models.orm.base import Base, utcnow
from models.orm.cycle import Cycle, CycleKind, CycleStatus, Request
from models.orm.evaluation import EvaluationNarrative, EvaluationValue
from models.orm.extension import DeadlineExtension, ExtensionStatus
from models.orm.inbound import InboundMessage, InboundStatus
from models.orm.outbox import (
    DeliveryStatus,
    MessageKind,
    OutgoingMessage,
    OutgoingMessageBody,
    OutgoingRecipient,
)
from models.orm.programme import (
    Agency,
    Indicator,
    IndicatorObservation,
    Programme,
    RegistryVersion,
    TaskGroup,
)
from models.orm.report import AuditEvent, Report, ReportStatus
from models.orm.submission import (
    Channel,
    IndicatorValue,
    Submission,
    SubmissionDraft,
    SubmissionStatus,
    TaskReport,
    TaskStatus,
)

__all__ = [
    "Agency",
    "AuditEvent",
    "Base",
    "Channel",
    "Cycle",
    "CycleKind",
    "CycleStatus",
    "DeadlineExtension",
    "DeliveryStatus",
    "EvaluationNarrative",
    "EvaluationValue",
    "InboundMessage",
    "InboundStatus",
    "ExtensionStatus",
    "Indicator",
    "IndicatorObservation",
    "IndicatorValue",
    "MessageKind",
    "OutgoingMessage",
    "OutgoingMessageBody",
    "OutgoingRecipient",
    "Programme",
    "RegistryVersion",
    "Report",
    "ReportStatus",
    "Request",
    "Submission",
    "SubmissionDraft",
    "SubmissionStatus",
    "TaskGroup",
    "TaskReport",
    "TaskStatus",
    "utcnow",
]
