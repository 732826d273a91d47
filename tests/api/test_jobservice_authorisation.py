"""Review finding: after the layers merge (``require_system(principal, resource, action)``)
``harbor_api/jobs/monitor.py`` still calls ``require_system(ctx.principal)``: every job
service endpoint answers 500 (TypeError) to everyone, admin included."""

import pytest

pytestmark = pytest.mark.api

READS = [
    "/jobservice/pools",
    "/jobservice/pools/all/workers",
    "/jobservice/queues",
    "/schedules",
    "/schedules/all/paused",
]


@pytest.mark.parametrize("path", READS)
def test_admin_reads_the_job_service(admin_client, path):
    r = admin_client.get(path)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "path",
    [
        "/jobservice/jobs/abc/log",
        "/jobservice/jobs/999999/log",
        "/jobservice/pools/nope/workers",
        "/schedules/nope/paused",
    ],
)
def test_unknown_ids_are_404_not_500(admin_client, path):
    r = admin_client.get(path)
    assert r.status_code == 404, r.text


@pytest.mark.parametrize("path", READS + ["/jobservice/jobs/1/log"])
def test_nobody_else_gets_a_500(anon_client, new_user, path):
    assert anon_client.get(path).status_code == 401
    _, _, _, user = new_user()
    assert user.get(path).status_code == 403
