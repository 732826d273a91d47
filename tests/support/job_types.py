"""Job types for tests only (servers load them with ``HARBOR_JOB_MODULES``).

``TEST_STEPS`` sleeps ``steps`` × ``step_seconds``, checking for a stop between steps; each
run appends ``start <task>`` and, when it completes, ``done <task>`` to the ``marker`` file,
so a test can count runs and completions across processes. ``TEST_FAIL`` fails its first
``fail_runs`` runs.
"""

from __future__ import annotations

import os
import time

from harbor_api.jobs.types import JobType, register


def _mark(ctx, what: str) -> None:
    marker = ctx.params.get("marker")
    if marker:
        with open(marker, "a") as f:
            f.write(f"{what} {ctx.task_id} {os.getpid()}\n")


def steps(ctx) -> None:
    _mark(ctx, "start")
    for n in range(int(ctx.params.get("steps", 1))):
        if ctx.should_stop():
            ctx.log(f"stopped at step {n}")
            return
        time.sleep(float(ctx.params.get("step_seconds", 0.1)))
    ctx.log("all steps done")
    _mark(ctx, "done")


def fail(ctx) -> None:
    _mark(ctx, "start")
    if ctx.run_count <= int(ctx.params.get("fail_runs", 1)):
        raise RuntimeError(f"planned failure of run {ctx.run_count}")
    _mark(ctx, "done")


register(
    JobType(
        "TEST_STEPS",
        steps,
        "test: sleeps in steps",
        max_retries=2,
        backoff_seconds=0.2,
        builtin=False,
    )
)
register(
    JobType(
        "TEST_FAIL",
        fail,
        "test: fails its first runs",
        max_retries=2,
        backoff_seconds=0.2,
        max_backoff_seconds=0.5,
        builtin=False,
    )
)
