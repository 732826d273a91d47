"""The ``GARBAGE_COLLECTION`` job (``docs/gc.md``): delete untagged artifacts (when asked),
sweep unreferenced blobs and manifests, remove upload leftovers; log what went and the bytes
freed. Parameters: ``delete_untagged``, ``dry_run``, ``workers``; the grace window is the
``gc_time_window_seconds`` setting."""

from __future__ import annotations

import time

from harbor_api.jobs.types import JobType, register
from harbor_api.registry.upload_files import UploadFiles
from harbor_api.services.gc_sweep import Sweeper
from harbor_api.services.gc_untagged import delete_untagged
from harbor_api.services.oci.quota_checks import format_bytes
from harbor_api.services.oci.upload_sweep import UploadSweeper

GARBAGE_COLLECTION = "GARBAGE_COLLECTION"
DEFAULT_WINDOW = 2 * 3600


def run_gc(ctx) -> None:
    if ctx.storage is None:
        raise RuntimeError("garbage collection needs the storage driver")
    params, settings = ctx.params, ctx.settings
    dry_run = bool(params.get("dry_run", False))
    workers = int(params.get("workers", 1) or 1)
    window = getattr(settings, "gc_time_window_seconds", DEFAULT_WINDOW)
    started = time.monotonic()
    mode = "dry run: nothing is deleted" if dry_run else "online: pushes continue"
    ctx.log(f"garbage collection started ({mode}; time window {window} s, {workers} worker(s))")
    if params.get("delete_untagged"):
        untagged = delete_untagged(ctx.db, window, dry_run, ctx.should_stop)
        verb = "would be deleted" if dry_run else "deleted"
        ctx.log(f"{untagged.artifacts} untagged artifact(s) {verb}")
        if untagged.stopped:
            ctx.log("stopped")
            return
    sweeper = Sweeper(ctx.db, ctx.storage, window, workers, ctx.should_stop)
    if dry_run:
        report = sweeper.dry_run()
        ctx.log(f"{report.blobs} blob(s) and {report.manifests} manifest(s) eligible for deletion")
        ctx.log(
            f"the GC job would free up {format_bytes(report.freed_bytes)} "
            f"({report.freed_bytes} bytes)"
        )
        return
    report = sweeper.sweep()
    ctx.log(f"{report.blobs} blob(s) and {report.manifests} manifest(s) deleted")
    ctx.log(f"the GC job freed up {format_bytes(report.freed_bytes)} ({report.freed_bytes} bytes)")
    if report.stopped:
        ctx.log("stopped")
        return
    if settings is not None:
        uploads = UploadSweeper(
            ctx.db,
            UploadFiles(ctx.storage),
            settings.upload_purge_age_seconds,
            settings.upload_purge_interval_seconds,
        ).sweep()
        ctx.log(
            f"{uploads} upload leftover(s) removed (untouched for "
            f"{settings.upload_purge_age_seconds} s)"
        )
    ctx.log(f"garbage collection finished in {time.monotonic() - started:.3f} s")


register(
    JobType(
        GARBAGE_COLLECTION,
        run_gc,
        "Garbage collection, online: delete untagged artifacts (delete_untagged), then the "
        "blobs and manifests nothing references and nothing used within the time window, "
        "and upload leftovers; dry_run reports only.",
        max_retries=1,
        backoff_seconds=10.0,
        max_backoff_seconds=60.0,
    )
)
