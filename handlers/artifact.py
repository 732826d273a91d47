"""Artifacts, their tags, labels, accessories and additions."""

from urllib.parse import quote, unquote

from harbor_api.api import Page, current_context, paged
from harbor_api.api.responses import empty
from harbor_api.services import artifact_copy, artifact_labels, artifacts, tags
from harbor_api.services.artifact_view import Options


def _options(
    with_tag=True,
    with_label=False,
    with_accessory=False,
    with_signature=False,
    with_immutable_status=False,
    **_ignored,
) -> Options:
    return Options(
        with_tag=with_tag,
        with_label=with_label,
        with_accessory=with_accessory,
        with_signature=with_signature,
        with_immutable_status=with_immutable_status,
    )


def _encoded(repository_name: str) -> str:
    """The repository path segment as Harbor writes it in URLs (encoded twice)."""
    return quote(quote(repository_name, safe=""), safe="")


def list_artifacts(
    project_name, repository_name, q=None, sort=None, page=None, page_size=None, **flags
):
    pg = Page.of(page, page_size)
    items, total = artifacts.list_artifacts(
        current_context(),
        project_name,
        repository_name,
        q=q,
        sort=sort,
        offset=pg.offset,
        limit=pg.page_size,
        opts=_options(**flags),
    )
    return paged(items, total, pg)


def copy_artifact(project_name, repository_name, **params):
    target, digest = artifact_copy.copy_artifact(
        current_context(), project_name, repository_name, params["from"]
    )
    path = target.split("/", 1)[1]
    return empty(
        201,
        {
            "Location": f"/api/v2.0/projects/{project_name}/repositories/"
            f"{_encoded(path)}/artifacts/{digest}"
        },
    )


def get_artifact(
    project_name, repository_name, reference, q=None, sort=None, page=None, page_size=None, **flags
):
    return artifacts.get_artifact(
        current_context(), project_name, repository_name, reference, _options(**flags)
    ), 200


def delete_artifact(project_name, repository_name, reference):
    artifacts.delete_artifact(current_context(), project_name, repository_name, reference)
    return empty(200)


def list_tags(
    project_name,
    repository_name,
    reference,
    q=None,
    sort=None,
    page=None,
    page_size=None,
    with_immutable_status=False,
    **_flags,
):
    pg = Page.of(page, page_size)
    items, total = tags.list_tags(
        current_context(),
        project_name,
        repository_name,
        reference,
        q=q,
        sort=sort,
        offset=pg.offset,
        limit=pg.page_size,
        with_immutable_status=with_immutable_status,
    )
    return paged(items, total, pg)


def create_tag(project_name, repository_name, reference, body):
    tags.create_tag(current_context(), project_name, repository_name, reference, body.get("name"))
    return empty(
        201,
        {
            "Location": f"/api/v2.0/projects/{project_name}/repositories/"
            f"{_encoded(unquote(repository_name))}/artifacts/{reference}"
            "/tags/"
            f"{body.get('name')}"
        },
    )


def delete_tag(project_name, repository_name, reference, tag_name):
    tags.delete_tag(current_context(), project_name, repository_name, reference, tag_name)
    return empty(200)


def list_accessories(
    project_name, repository_name, reference, q=None, sort=None, page=None, page_size=None
):
    pg = Page.of(page, page_size)
    items, total = artifacts.list_accessories(
        current_context(),
        project_name,
        repository_name,
        reference,
        offset=pg.offset,
        limit=pg.page_size,
    )
    return paged(items, total, pg)


def add_label(project_name, repository_name, reference, body):
    artifact_labels.add_label(
        current_context(), project_name, repository_name, reference, body.get("id")
    )
    return empty(200)


def remove_label(project_name, repository_name, reference, label_id):
    artifact_labels.remove_label(
        current_context(), project_name, repository_name, reference, label_id
    )
    return empty(200)


def get_addition(project_name, repository_name, reference, addition):
    return artifacts.addition(
        current_context(), project_name, repository_name, reference, addition
    ), 200
