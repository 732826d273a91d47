"""What the directory said about an LDAP user at their last login (groups, admin group)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from harbor_api.db.base import Base, UTCDateTime, utcnow


class LdapMembership(Base):
    """Refreshed at each directory login; read by session and cached Basic logins so they
    carry the same groups without asking the directory again."""

    __tablename__ = "ldap_memberships"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    group_dns: Mapped[str] = mapped_column(Text, default="[]")  # JSON list, canonical DNs
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    refreshed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
