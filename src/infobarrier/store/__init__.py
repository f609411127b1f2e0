"""Persistence: SQLAlchemy 2 over SQLite (default) or PostgreSQL, migrated by Alembic."""
