"""The per-table write counters: a write moves its table's number when the statement runs
and again when its connection goes back to the pool (after the commit); reads never do."""

from __future__ import annotations

from sqlalchemy import text

from harbor_api.db import table_writes
from harbor_api.db.session import Database


def test_writes_move_their_tables_number_at_the_statement_and_after_the_commit(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)"))
            conn.execute(text("CREATE TABLE tags (id INTEGER PRIMARY KEY)"))
        before = table_writes.generation(["users"])
        with db.engine.connect() as conn:
            conn.execute(text("SELECT * FROM users")).all()
        assert table_writes.generation(["users"]) == before  # a read
        with db.engine.connect() as conn:
            conn.execute(text('INSERT INTO "users" (name) VALUES (:n)'), {"n": "a"})
            during = table_writes.generation(["users"])
            assert during != before  # at the statement
            conn.commit()
        after = table_writes.generation(["users"])
        assert after != during  # and once the connection is back (the commit is visible)
        other = table_writes.generation(["tags"])
        with db.transaction() as s:
            s.execute(text("UPDATE users SET name = 'b'"))
            s.execute(text("DELETE FROM tags"))
        assert table_writes.generation(["users"]) != after
        assert table_writes.generation(["tags"]) != other
    finally:
        db.dispose()
