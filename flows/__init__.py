"""Prefect flows of the reporting cycle; each has a deployment in ``prefect.yaml``."""
