"""The job service's settings and the jobs-worker command's refusals."""

from __future__ import annotations

import pytest

from harbor_api import cli
from harbor_api.settings import ConfigError, load_settings


@pytest.mark.parametrize(
    "env, fragment",
    [
        ({"HARBOR_JOB_QUEUE": "kafka"}, "job_queue must be database or redis"),
        ({"HARBOR_JOB_QUEUE": "redis"}, "job_queue redis needs redis_url"),
        ({"HARBOR_JOB_WORKERS": "-1"}, "job_workers must be 0 or more"),
        ({"HARBOR_JOB_LEASE_SECONDS": "0"}, "job_lease_seconds must be at least 1"),
    ],
)
def test_bad_job_settings_fail_with_the_key_named(env, fragment):
    with pytest.raises(ConfigError, match=fragment):
        load_settings(environ=env)


def test_defaults_are_the_embedded_database_queue():
    settings = load_settings(environ={})
    assert (settings.job_queue, settings.job_workers, settings.job_lease_seconds) == (
        "database",
        2,
        30,
    )


def test_jobs_worker_needs_the_redis_queue(tmp_path, monkeypatch, capsys):
    for key in ("HARBOR_JOB_QUEUE", "HARBOR_REDIS_URL", "HARBOR_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    assert cli.main(["jobs-worker", "--data-dir", str(tmp_path)]) == 2
    assert "jobs-worker needs job_queue: redis" in capsys.readouterr().err
