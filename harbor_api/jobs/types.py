"""The job-type registry: job type name → handler, retries and backoff.

``docs/jobs.md`` lists this table and a unit test keeps the two equal. Built-in job types
register in :mod:`harbor_api.jobs.builtin`; the ``job_modules`` setting names extra modules
to import (each calls :func:`register`), e.g. for site-specific jobs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class UnknownJobTypeError(LookupError):
    """A task names a job type no module registered."""


@dataclass(frozen=True)
class JobType:
    name: str
    run: Callable[[Any], None]  # called with a harbor_api.jobs.runner.JobContext
    description: str
    max_retries: int = 3
    backoff_seconds: float = 10.0  # first retry delay; doubles per run
    max_backoff_seconds: float = 600.0
    builtin: bool = True

    def backoff(self, run_count: int) -> float:
        """Delay before the run after ``run_count`` failed runs."""
        return min(self.max_backoff_seconds, self.backoff_seconds * 2 ** max(0, run_count - 1))


JOB_TYPES: dict[str, JobType] = {}


def register(job_type: JobType) -> JobType:
    JOB_TYPES[job_type.name] = job_type
    return job_type


def get(name: str) -> JobType:
    load_builtin()
    try:
        return JOB_TYPES[name]
    except KeyError:
        raise UnknownJobTypeError(name) from None


def load_builtin() -> None:
    importlib.import_module("harbor_api.jobs.builtin")


def load_modules(names: str) -> None:
    """Import the comma-separated ``job_modules`` setting's modules (they register)."""
    load_builtin()
    for name in filter(None, (n.strip() for n in names.split(","))):
        importlib.import_module(name)
