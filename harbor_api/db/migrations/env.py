"""Alembic environment: runs against the connection handed over by harbor_api.db.migrate."""

from alembic import context

from harbor_api.db import models  # noqa: F401  (registers every table)
from harbor_api.db.base import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through harbor_api.db.migrate.upgrade()")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
