"""glibc malloc settings applied by the server's master (harbor_api/malloc_tuning.py)."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = "from harbor_api.malloc_tuning import tune_malloc; print(','.join(tune_malloc()))"


def _applied(**env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return [name for name in done.stdout.strip().split(",") if name]


def test_both_settings_are_applied_on_glibc():
    assert _applied() == ["MALLOC_MMAP_THRESHOLD_", "MALLOC_ARENA_MAX"]


def test_the_operators_environment_wins():
    assert _applied(MALLOC_ARENA_MAX="4") == ["MALLOC_MMAP_THRESHOLD_"]
