"""Alembic environment: run migrations on the connection ``store.migrate`` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from infobarrier.store.schema import Base, use_dialect

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    """Migrate the given connection, or the URL in the config (for the alembic CLI)."""
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
        use_dialect(engine.dialect.name)
        with engine.begin() as conn:
            context.configure(
                connection=conn, target_metadata=target_metadata, render_as_batch=True
            )
            with context.begin_transaction():
                context.run_migrations()
        return
    use_dialect(connection.dialect.name)
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
