"""``pytest`` works as a plain command from the repository root, not only ``python -m pytest``
(``pythonpath = .`` in the pytest configuration puts the root, and so ``tests.support``, on
the import path)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_plain_pytest_collects_the_unit_tests_from_the_repository_root():
    beside_python = Path(sys.executable).with_name("pytest")  # this environment's
    pytest_command = beside_python if beside_python.exists() else shutil.which("pytest")
    assert pytest_command, "no pytest command on PATH"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [str(pytest_command), "--collect-only", "-q", "-p", "no:cacheprovider", "tests/unit"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "tests/unit/test_plain_pytest.py::" in result.stdout
