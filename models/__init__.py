"""The application's data: SQLAlchemy models (``models.orm``) and data functions.

Data functions take ``*, session`` and only flush; the caller owns the transaction.
"""
