"""Bring a database schema up to date with Alembic, safely from several processes."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine) -> None:
    """Apply every pending migration; PostgreSQL serialises concurrent callers with a lock."""
    cfg = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL lock_timeout = 0")  # wait for the other migrator
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7261134)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def autogenerate(engine: Engine, message: str) -> None:
    """Developer helper: write a new revision from the models' differences."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
