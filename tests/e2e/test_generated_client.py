"""A Python SDK generated from openapi/swagger.yaml (openapi-python-client) works unchanged.

The client is generated into a temporary directory on every run, so a spec the generator
cannot digest fails here, with the generator's own words.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.support.servers import ADMIN_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "swagger.yaml"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "harbor_generated_client"


@pytest.fixture(scope="module")
def sdk(tmp_path_factory):
    """Generate, import and yield the client package; unload it afterwards."""
    root = tmp_path_factory.mktemp("generated-client")
    config = root / "config.yaml"
    config.write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(SPEC),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower() and "error" not in output.lower(), output
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture
def admin(sdk, sqlite_server):
    client = sdk.Client(
        base_url=f"{sqlite_server.url}/api/v2.0",
        httpx_args={"auth": ("admin", ADMIN_PASSWORD)},
        raise_on_unexpected_status=True,
    )
    with client as bound:
        yield bound


def test_generated_client_creates_and_lists_projects(sdk, admin):
    create_project = importlib.import_module(f"{PACKAGE}.api.project.create_project")
    list_projects = importlib.import_module(f"{PACKAGE}.api.project.list_projects")
    get_project = importlib.import_module(f"{PACKAGE}.api.project.get_project")
    delete_project = importlib.import_module(f"{PACKAGE}.api.project.delete_project")
    models = importlib.import_module(f"{PACKAGE}.models")

    name = f"sdk-{uuid.uuid4().hex[:8]}"
    body = models.ProjectReq(project_name=name, metadata=models.ProjectMetadata(public="false"))
    created = create_project.sync_detailed(client=admin, body=body)
    assert created.status_code == 201, created.content
    assert created.headers["Location"].startswith("/api/v2.0/projects/")

    found = list_projects.sync(client=admin, name=name)
    assert [p.name for p in found] == [name]
    assert found[0].metadata.public == "false" and found[0].owner_name == "admin"

    everything = list_projects.sync(client=admin, page_size=100)
    assert {"library", name} <= {p.name for p in everything}

    one = get_project.sync(name, client=admin, x_is_resource_name="true")
    assert isinstance(one, models.Project) and one.project_id == found[0].project_id
    assert one.creation_time.tzinfo is not None

    deleted = delete_project.sync_detailed(name, client=admin, x_is_resource_name="true")
    assert deleted.status_code == 200
    assert list_projects.sync(client=admin, name=name) == []


def test_generated_client_reads_errors_as_the_errors_model(sdk, sqlite_server):
    get_project = importlib.import_module(f"{PACKAGE}.api.project.get_project")
    models = importlib.import_module(f"{PACKAGE}.models")
    with sdk.Client(
        base_url=f"{sqlite_server.url}/api/v2.0", httpx_args={"auth": ("admin", ADMIN_PASSWORD)}
    ) as client:
        missing = get_project.sync("no-such-project", client=client, x_is_resource_name="true")
    assert isinstance(missing, models.Errors)
    assert missing.errors[0].code == "NOT_FOUND"
