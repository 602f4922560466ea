"""What every group of `r42` commands shares: its argument types (a day, a moment with its UTC
offset), the clock, the programme asked for, and sending what a command queued."""

from __future__ import annotations

import argparse
import datetime as dt

from config.settings import get_settings
from mail.delivery import deliver_configured
from models.orm import CycleKind


def day_argument(text: str) -> dt.date:
    """``--on 2026-12-01``."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a date like 2026-12-01") from None


def moment_argument(text: str) -> dt.datetime:
    """``--as-of 2026-12-01T08:00:00+07:00``: a moment, never without its UTC offset."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r}: expected e.g. 2026-12-01T08:00:00+07:00")
    return value


def add_kind_argument(parser: argparse.ArgumentParser) -> None:
    """``--kind annual|midterm|final``: which cycle of the year, the yearly one by default."""
    parser.add_argument(
        "--kind",
        choices=[kind.value for kind in CycleKind],
        default=CycleKind.ANNUAL.value,
        help="which round: the yearly cycle or a review (default: annual)",
    )


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def programme_of(args: argparse.Namespace) -> str:
    """``--programme``, else the configured one (``R42_CYCLE__PROGRAMME``)."""
    return args.programme or get_settings().cycle.programme


def deliver_queued(cycle_id: int) -> None:
    """Send what the command queued for the cycle, printing each outcome."""
    run = deliver_configured(cycle_id, now=now())
    for result in run.results:
        print(f"  email {result.status}: {result.reply}")
    if run.stopped:
        print(f"  sending stopped, messages left pending: {run.stopped}")
