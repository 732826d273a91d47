"""Task and execution statuses: the job service's own names and Harbor's API names.

Internally a task is ``pending`` → ``running`` → ``success`` | ``error`` | ``stopped``
(a failed run with retries left goes back to ``pending``). The API reports Harbor's names.
"""

from __future__ import annotations

from collections.abc import Mapping

PENDING = "pending"
RUNNING = "running"
SUCCESS = "success"
ERROR = "error"
STOPPED = "stopped"
FINAL = frozenset({SUCCESS, ERROR, STOPPED})
ALL = (PENDING, RUNNING, SUCCESS, ERROR, STOPPED)

#: what Harbor's API calls each status (replication, GC, purge-audit executions and tasks)
HARBOR_NAMES = {
    PENDING: "InProgress",
    RUNNING: "InProgress",
    SUCCESS: "Succeed",
    ERROR: "Failed",
    STOPPED: "Stopped",
}


def harbor_name(status: str) -> str:
    return HARBOR_NAMES[status]


def derive(counts: Mapping[str, int]) -> str:
    """An execution's status from its tasks' status counts (Harbor's rule): in progress
    while any task is pending or running, else failed if any failed, else stopped if any
    was stopped, else succeeded (an execution without tasks has nothing left to do)."""
    if counts.get(PENDING, 0) or counts.get(RUNNING, 0):
        return RUNNING
    if counts.get(ERROR, 0):
        return ERROR
    if counts.get(STOPPED, 0):
        return STOPPED
    return SUCCESS
