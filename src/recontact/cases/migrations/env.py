"""Alembic environment: migrates the engine handed in by ``recontact.cases.migrations``."""

from __future__ import annotations

from alembic import context

from recontact.cases.models import Base

engine = context.config.attributes.get("engine")
if engine is None:  # pragma: no cover - only reached by running the alembic CLI by hand
    raise RuntimeError("run migrations through recontact.cases.migrations.upgrade(engine)")

with engine.connect() as connection:
    # SQLite cannot ALTER most things: batch mode copies the table (later revisions use op.batch_alter_table).
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
