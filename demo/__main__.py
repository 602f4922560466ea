"""``python -m demo`` (what ``make demo`` runs): the 2026 cycle end to end on a simulated clock,
in data/demo/; ``python -m demo midterm`` (``make demo-midterm``): the 2025 mid-term review on
the demo's data, in data/demo-midterm/. Invented data, clearly marked; never the configured
database or a real mailbox."""

from __future__ import annotations

import argparse
import sys

from cli.errors import allow_slow_prefect_start, explain


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.split(";")[0])
    parser.add_argument(
        "round",
        nargs="?",
        choices=["yearly", "midterm"],
        default="yearly",
        help="the yearly 2026 cycle (default) or the 2025 mid-term review",
    )
    args = parser.parse_args(argv)
    allow_slow_prefect_start()
    if args.round == "midterm":
        from demo.midterm import main as run
    else:
        from demo.run import main as run
    try:
        return run()
    except RuntimeError as exc:  # e.g. the temporary Prefect server too slow to start
        print(f"demo: {explain(str(exc))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
