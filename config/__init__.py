"""Settings and the programme registries (data files with effective dates)."""

from pathlib import Path

DATA_DIR = Path("data")  # the embedded set-up's folder: database, outbox, reports
