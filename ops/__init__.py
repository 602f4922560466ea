"""Ops tooling: the production layout brought up on one machine with real processes."""
