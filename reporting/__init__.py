"""The steps of the reporting cycle, built on the data functions of ``models``.

Each function takes ``*, session`` and only flushes; the flows own the transactions.
"""
