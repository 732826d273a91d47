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


def markdown_table() -> str:
    """The built-in job types as ``docs/jobs.md`` lists them (``python -m
    harbor_api.jobs.types`` prints it)."""
    load_builtin()
    lines = [
        "| Job type | Max retries | First retry after | Longest backoff | What it does |",
        "|---|---|---|---|---|",
    ]
    for job in sorted((j for j in JOB_TYPES.values() if j.builtin), key=lambda j: j.name):
        lines.append(
            f"| `{job.name}` | {job.max_retries} | {job.backoff_seconds:g} s | "
            f"{job.max_backoff_seconds:g} s | {job.description} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    from harbor_api.jobs import types as registry  # the registry builtin registers into

    print(registry.markdown_table(), end="")
