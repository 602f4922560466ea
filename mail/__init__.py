"""Email: built once into final bytes (``compose``), stored, then sent by a ``Transport``."""
