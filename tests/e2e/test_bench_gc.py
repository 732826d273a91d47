"""scripts/bench-gc at a tiny size: both collections run on the same seeded content and
leave the same blobs (the script checks it and exits non-zero otherwise)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def test_bench_gc_runs_both_collections_and_prints_the_ratio():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench-gc"), "--blobs", "300", "--artifacts", "30"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ratio distribution/ours:" in proc.stdout
    assert "110 blob files left (online)" in proc.stdout  # 10 of the 30 images of 11 kept
