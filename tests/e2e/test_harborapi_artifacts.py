"""The harborapi client (PyPI) against our server: its models must accept our responses."""

from __future__ import annotations

import asyncio

import pytest
from harborapi import HarborAsyncClient
from harborapi.models import Label, Tag

from tests.conftest import unique
from tests.support.servers import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e


def test_repositories_artifacts_tags_labels_audit(server, project, pusher):
    img = pusher.image(f"{project}/hapi/app", "v1")
    idx = pusher.index(f"{project}/hapi/app", "multi")
    label_name = unique("hl")

    async def scenario():
        client = HarborAsyncClient(
            url=f"{server.url}/api/v2.0", username="admin", secret=ADMIN_PASSWORD, timeout=30
        )
        repos = await client.get_repositories(project)
        assert [r.name for r in repos] == [f"{project}/hapi/app"]
        assert repos[0].artifact_count == 4 and repos[0].base_name == "hapi/app"
        repo = await client.get_repository(project, "hapi/app")
        assert repo.project_name == project
        location = await client.create_label(Label(name=label_name, scope="g", color="#00ff00"))
        label_id = int(location.rsplit("/", 1)[1])
        await client.add_artifact_label(project, "hapi/app", "v1", Label(id=label_id))
        artifacts = await client.get_artifacts(
            project, "hapi/app", with_label=True, with_accessory=True
        )
        assert {a.digest for a in artifacts} == {img.digest, idx.digest}
        by_tag = await client.get_artifact(project, "hapi/app", "v1", with_label=True)
        assert by_tag.digest == img.digest and [lb.name for lb in by_tag.labels] == [label_name]
        assert by_tag.extra_attrs.root["architecture"] == "amd64"
        by_digest = await client.get_artifact(project, "hapi/app", idx.digest)
        assert len(by_digest.references) == 2 and by_digest.references[0].platform.os
        await client.create_artifact_tag(project, "hapi/app", "v1", Tag(name="stable"))
        tags = await client.get_artifact_tags(project, "hapi/app", "v1")
        assert {t.name for t in tags} == {"v1", "stable"}
        await client.delete_artifact_tag(project, "hapi/app", "v1", "stable")
        history = await client.get_artifact_build_history(project, "hapi/app", "v1")
        assert len(history) == 2
        await client.delete_artifact(project, "hapi/app", "multi")
        remaining = await client.get_artifacts(project, "hapi/app")
        assert [a.digest for a in remaining] == [img.digest]
        logs = await client.get_project_logs(project, query="operation=delete")
        assert {entry.resource_type for entry in logs} >= {"tag", "artifact"}
        system = await client.get_audit_logs(query=f"resource={label_name}")
        assert [entry.operation for entry in system] == ["create"]
        stats = await client.get_statistics()
        assert stats.total_repo_count >= 1
        found = await client.search(project)
        assert found.repository[0].repository_name == f"{project}/hapi/app"
        await client.delete_label(label_id)
        await client.delete_repository(project, "hapi/app")
        assert await client.get_repositories(project) == []

    asyncio.run(scenario())
