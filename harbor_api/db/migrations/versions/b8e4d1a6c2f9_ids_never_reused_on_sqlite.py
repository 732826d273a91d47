"""ids never reused on SQLite: AUTOINCREMENT on executions, tasks, audit_logs, robots,
labels and immutable_rules

Without AUTOINCREMENT SQLite hands the highest deleted id out again, so a new task appended
to a deleted task's stored log and a client holding an old id saw another row. PostgreSQL's
sequences never reuse: nothing to do there.

The tables are recreated with foreign keys off (dropping a parent table with them on would
cascade-delete its children's rows); ``PRAGMA foreign_keys`` is ignored inside a
transaction, so the migrations so far are committed first (each with its alembic_version
row, a consistent state) and the keys are checked before they are turned on again.

Revision ID: b8e4d1a6c2f9
Revises: f3a8c2d41b67
Create Date: 2026-12-01 23:40:00
"""

from alembic import op

revision = 'b8e4d1a6c2f9'
down_revision = 'f3a8c2d41b67'
branch_labels = None
depends_on = None

TABLES = ('executions', 'tasks', 'audit_logs', 'robots', 'labels', 'immutable_rules')


def _recreate(autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    dbapi = bind.connection.dbapi_connection
    dbapi.commit()  # PRAGMA foreign_keys is a no-op inside a transaction
    dbapi.execute('PRAGMA foreign_keys=OFF')
    try:
        for table in TABLES:
            with op.batch_alter_table(
                table, recreate='always', table_kwargs={'sqlite_autoincrement': autoincrement}
            ):
                pass
        broken = dbapi.execute('PRAGMA foreign_key_check').fetchall()
        if broken:
            raise RuntimeError(f'foreign keys broken by the table recreation: {broken[:5]}')
        dbapi.commit()
    finally:
        dbapi.execute('PRAGMA foreign_keys=ON')


def upgrade() -> None:
    _recreate(True)


def downgrade() -> None:
    _recreate(False)
