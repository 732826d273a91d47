"""An operator's password reset (``harbor-api reset-password``), run against the database
directly, with no server and no signed-in administrator: the way back in when the admin
password is lost, and the way to set it on a data directory that already exists (the
``admin_password`` setting only applies on the very first start)."""

from __future__ import annotations

from sqlalchemy import delete, select

from harbor_api.auth import throttle
from harbor_api.auth.passwords import hash_password, meets_policy
from harbor_api.auth.usernames import normalise
from harbor_api.db.audit_records import add_record
from harbor_api.db.models import LoginSession, User
from harbor_api.db.session import Database
from harbor_api.services.users import POLICY_MESSAGE

#: who the audit log names for a reset done on the command line
OPERATOR = "harbor-api reset-password"


class ResetRefused(Exception):
    """The reset cannot be done; the message is meant for the operator."""


def reset_password(db: Database, username: str, password: str, settings=None) -> int:
    """Set ``username``'s password; end all of that user's browser sessions (whoever had
    the old password is signed out) and lift a login lock on the name (``settings`` says
    where the throttle keeps its counters). Returns how many sessions were ended."""
    if not meets_policy(password):
        raise ResetRefused(POLICY_MESSAGE)
    username = normalise(username)
    new_hash = hash_password(password)
    with db.transaction() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise ResetRefused(f"there is no user named {username!r}")
        if user.auth_source == "ldap":
            raise ResetRefused(
                f"user {username!r} signs in through LDAP: change the password in the directory"
            )
        user.password_hash = new_hash
        ended = s.execute(delete(LoginSession).where(LoginSession.user_id == user.id)).rowcount
        add_record(s, OPERATOR, "update", "user", f"{username} (password reset)")
    throttle.clear(settings, db, username)
    return ended or 0
