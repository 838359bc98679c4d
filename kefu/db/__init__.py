"""Persistence: SQLAlchemy models, migrations and the repositories that hide them."""
