"""Review findings on secrets at rest.

* The LDAP search (bind) password set through ``PUT /configurations`` is stored in plain
  text in the ``configurations`` table (registry endpoint secrets are encrypted with the
  credential key; this one is not), so it is in every backup and in the database file.
* The SQLite database file (password hashes, robot secret hashes, that LDAP password) is
  created world-readable (0644 under umask 022), unlike the key files beside it (0600)."""

import os
import stat

import pytest

from tests.support.tokens import sql

pytestmark = pytest.mark.api

SECRET = "LDAP-bind-Secret-4711"


def test_the_ldap_search_password_is_not_stored_in_clear(server, admin_client):
    r = admin_client.put("/configurations", json={"ldap_search_password": SECRET})
    assert r.status_code == 200, r.text
    try:
        rows = sql(server, "SELECT * FROM configurations")
    finally:
        admin_client.put("/configurations", json={"ldap_search_password": ""})
    assert not [row for row in rows if SECRET in str(tuple(row))], rows


def test_the_sqlite_database_is_private(sqlite_server):
    db = sqlite_server.data_dir / "harbor.db"
    if not db.exists():
        pytest.fail(f"no database at {db}: {os.listdir(sqlite_server.data_dir)}")
    mode = stat.S_IMODE(db.stat().st_mode)
    assert mode & 0o077 == 0, oct(mode)
