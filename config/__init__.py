"""Settings and the programme registries (data files with effective dates)."""
