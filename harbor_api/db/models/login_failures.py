"""Failed-login counters shared by every worker (the login throttle's database store)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from harbor_api.db.base import Base, UTCDateTime


class LoginFailure(Base):
    """Consecutive failed logins for one normalised login name (``harbor_api.auth.throttle``);
    the row is removed by a successful login, a password reset, or an operator."""

    __tablename__ = "login_failures"

    username: Mapped[str] = mapped_column(String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_failure: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
