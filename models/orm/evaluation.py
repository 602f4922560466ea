"""What an evaluation round (mid-term 2025, final 2030) adds to a submission.

An evaluation submission is an ordinary :class:`Submission` (revision, lateness, channel, task
reports, and the evaluation year's values as :class:`IndicatorValue`), plus the values of the
earlier years since the baseline and the agency's narrative of the period.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.orm.base import Base
from models.orm.programme import Indicator
from models.orm.submission import Submission


class EvaluationValue(Base):
    """An agency's value of one indicator for one year before the evaluation year."""

    __tablename__ = "evaluation_value"
    __table_args__ = (UniqueConstraint("submission_id", "indicator_id", "year"),)

    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    year: Mapped[int]
    value: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))  # None for yes/no indicators
    achieved: Mapped[bool | None]

    submission: Mapped[Submission] = relationship()
    indicator: Mapped[Indicator] = relationship()


class EvaluationNarrative(Base):
    """The agency's account of the period: results, causes of shortfalls, lessons, proposals."""

    __tablename__ = "evaluation_narrative"

    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), unique=True
    )
    results: Mapped[str] = mapped_column(Text, default="")
    shortfall_causes: Mapped[str] = mapped_column(Text, default="")
    lessons: Mapped[str] = mapped_column(Text, default="")
    proposals: Mapped[str] = mapped_column(Text, default="")

    submission: Mapped[Submission] = relationship()
