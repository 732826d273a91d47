"""A short memory of Bearer verdicts: the principal a token was last found to stand for.

Deciding a token reads its account (and its projects) from the database: that read was most
of a small ``/v2`` request's cost. A verdict is reused while nothing it was read from can
have changed, and never longer than :data:`RECHECK_SECONDS`:

- any write by this process to the tables a verdict depends on (:data:`TABLES`: an account
  deleted, disabled, refreshed or given a new password, a project deleted or recreated, the
  robot name prefix changed) ends every remembered verdict at once
  (:mod:`harbor_api.db.table_writes`);
- a write by another worker or node is seen within :data:`RECHECK_SECONDS`;
- nothing is kept past the token's ``exp``; refusals are never remembered.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from harbor_api.auth.principal import Principal
from harbor_api.db import table_writes

#: The longest a verdict is reused without reading the account again (the bound on how late
#: another process's change to an account or project is seen).
RECHECK_SECONDS = 1.0
#: What a verdict is read from: accounts, projects (creation time, id) and the robot prefix.
TABLES = ("users", "robots", "projects", "configurations")
DEFAULT_SIZE = 4096


class BearerVerdicts:
    """Bounded, thread-safe map from a token's cache slot to its principal."""

    def __init__(self, seconds: float = RECHECK_SECONDS, size: int = DEFAULT_SIZE) -> None:
        self.seconds, self.size = seconds, size
        self._entries: OrderedDict[bytes, tuple[Principal, int, float, float]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def generation() -> int:
        """Take it before reading what a verdict is made of; pass it to :meth:`put`."""
        return table_writes.generation(TABLES)

    def get(self, slot: bytes) -> Principal | None:
        with self._lock:
            entry = self._entries.get(slot)
            if entry is None:
                return None
            principal, generation, until, expires = entry
            if (
                generation == table_writes.generation(TABLES)
                and time.monotonic() < until
                and time.time() < expires
            ):
                return principal
            del self._entries[slot]
            return None

    def put(self, slot: bytes, principal: Principal, generation: int, expires: float) -> None:
        """Remember ``principal`` for the token (``expires``: its ``exp``, wall clock)."""
        until = time.monotonic() + self.seconds
        with self._lock:
            self._entries[slot] = (principal, generation, until, expires)
            self._entries.move_to_end(slot)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
