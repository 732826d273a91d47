"""Two statement helpers the registry rules share: a model's Core table, and an insert that
ignores a unique-key conflict on either backend (concurrent pushes race for the same rows)."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from harbor_api.db.base import Base


def table(model: type[Base]) -> Table:
    """The Core table of a model (for the hot statements that skip the ORM)."""
    return cast(Table, model.__table__)


def insert_ignoring_conflicts(session: Session, model: type[Base], values: dict[str, Any]) -> None:
    """``INSERT … ON CONFLICT DO NOTHING`` on either backend (concurrent pushes race)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table(model))
    else:
        statement = sqlite.insert(table(model))
    session.connection().execute(statement.values(**values).on_conflict_do_nothing())
