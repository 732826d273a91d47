"""User-name rules: NFKC normalisation and refused invisible characters, including for
users mirrored from LDAP."""

from __future__ import annotations

import pytest

from harbor_api.auth.ldap import DirectoryUser
from harbor_api.auth.ldap_login import sync_user
from harbor_api.auth.usernames import invisible_characters, normalise
from harbor_api.db.base import Base
from harbor_api.db.session import Database


@pytest.mark.parametrize(
    "name, hidden",
    [
        ("admin", []),
        ("caf\u00e9", []),
        ("admin\u200b", ["U+200B"]),
        ("a\u202eb", ["U+202E"]),
        ("a\x00b", ["U+0000"]),
        ("a b", ["U+0020"]),
        ("\u00adx\ufeff", ["U+00AD", "U+FEFF"]),
    ],
)
def test_invisible_characters(name, hidden):
    assert invisible_characters(name) == hidden


def test_normalise_folds_compatibility_forms():
    assert normalise("ａｄｍｉｎ") == "admin" and normalise("\ufb01le") == "file"
    assert normalise("cafe\u0301") == "caf\u00e9"


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'h.db'}")
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


def test_ldap_users_are_mirrored_under_the_normalised_name_or_not_at_all(db):
    with db.transaction() as s:
        assert sync_user(s, DirectoryUser(dn="uid=x,dc=t", username="bob\u200b")) is None
        user = sync_user(s, DirectoryUser(dn="uid=b,dc=t", username="ｂｏｂ"))
        assert user is not None and user.username == "bob"
