"""A programme's targets: what each one measures and how its value meets the target.

Part of the ``programme.yaml`` schema (``config.registry``).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

_CODE = r"^[a-z][a-z0-9_-]*$"
Code = Annotated[str, Field(pattern=_CODE, max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(StrEnum):
    """How a value is compared with its 2030 target."""

    AT_LEAST = "at_least"  # "đạt", "tối thiểu", "ít nhất": value >= target
    MORE_THAN = "more_than"  # "trên": value > target (strict)
    AT_MOST = "at_most"  # "không quá", "xoá bỏ hoàn toàn" (target 0): value <= target
    LESS_THAN = "less_than"  # "dưới": value < target (strict)
    ACHIEVED = "achieved"  # yes/no target: met when the answer is yes
    TOWARD = "toward"  # "tiến dần đến": met within the tolerance of the target

    @property
    def symbol(self) -> str:
        return {
            "at_least": "≥",
            "more_than": ">",
            "at_most": "≤",
            "less_than": "<",
            "achieved": "đạt",
            "toward": "→",
        }[self.value]

    @property
    def higher_is_better(self) -> bool | None:
        """+1/-1 direction of progress; None where direction is not defined by the rule."""
        if self in (Rule.AT_LEAST, Rule.MORE_THAN):
            return True
        if self in (Rule.AT_MOST, Rule.LESS_THAN):
            return False
        return None


class ValueKind(StrEnum):
    """What an indicator's value is, which decides how the form validates it."""

    PERCENT = "percent"  # 0..100
    COUNT = "count"  # whole number >= 0
    RATE = "rate"  # decimal >= 0 (per 10,000 people, m² per person, years, children per woman)
    YES_NO = "yes_no"


class Target(_Strict):
    """One of the programme's targets for its target year."""

    code: Code = Field(description="Stable code, used in files, links and the database.")
    number: int = Field(ge=1, description="Position in the programme's list of targets.")
    name: str = Field(min_length=3, description="Vietnamese name as the programme words it.")
    unit: str = Field(min_length=1, description="Vietnamese unit, e.g. '%', 'giường/10.000 dân'.")
    kind: ValueKind = Field(description="Kind of value, which decides validation.")
    rule: Rule = Field(description="How a value is compared with the target.")
    target: Decimal | None = Field(
        default=None,
        description="Target value; None for yes/no targets and for targets assigned later.",
    )
    tolerance: Decimal | None = Field(
        default=None,
        ge=0,
        description="For 'toward' rules: distance from target that counts as met.",
    )
    note: str | None = Field(default=None, description="Vietnamese note shown with the target.")
    plausible: tuple[Decimal, Decimal] | None = Field(
        default=None,
        description="[min, max] a real value lies in; a value outside is not refused but "
        "flagged: the clerk confirms it, the coordinator sees it listed.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Target:
        if self.plausible is not None:
            low, high = self.plausible
            if not low < high:
                raise ValueError("plausible: [min, max] needs min < max")
            if self.kind is ValueKind.YES_NO:
                raise ValueError("plausible: a yes/no target has no range")
            if self.target is not None and not low <= self.target <= high:
                raise ValueError(
                    f"plausible: the target {self.target} lies outside [{low}, {high}]"
                )
        if (self.rule is Rule.ACHIEVED) != (self.kind is ValueKind.YES_NO):
            raise ValueError("rule 'achieved' goes with kind 'yes_no' and only with it")
        if self.rule is Rule.TOWARD and (self.target is None or self.tolerance is None):
            raise ValueError("rule 'toward' needs both 'target' and 'tolerance'")
        if (
            self.kind is ValueKind.PERCENT
            and self.target is not None
            and not 0 <= self.target <= 100
        ):
            raise ValueError("a percent target must lie within 0-100")
        return self
