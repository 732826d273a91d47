"""What an execution copies: this instance's artifacts that a policy's filters select, and
the destination name of each (Harbor's ``dest_namespace`` rules)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbor_api.db.models import (
    Artifact,
    ArtifactLabel,
    ArtifactReference,
    Label,
    Repository,
    Tag,
)
from harbor_api.errors import BadRequestError
from harbor_api.services.replication.filters import Filter, glob_match

IMAGE_TYPES = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}


@dataclass(frozen=True)
class Item:
    repository: str
    digest: str
    tags: tuple[str, ...]


def destination_name(repository: str, namespace: str, replace_count: int) -> str:
    """Harbor's mapping: no namespace keeps the name; -1 (legacy) replaces the first path
    component; 0 prefixes the namespace; n replaces the first n components."""
    if not namespace:
        return repository
    parts = repository.split("/")
    if replace_count < 0:
        replace_count = 1
    if replace_count >= len(parts):
        raise BadRequestError(
            f"the repository {repository} has only {len(parts)} path "
            f"components, not more than dest_namespace_replace_count "
            f"{replace_count}"
        )
    return "/".join([namespace, *parts[replace_count:]])


def tag_selected(tags: list[str], flt: Filter | None) -> list[str] | None:
    """The tags kept; None when the artifact is left out."""
    if flt is None:
        return tags
    hits = [t for t in tags if glob_match(flt.value, t)]
    kept = [t for t in tags if t not in hits] if flt.decoration == "excludes" else hits
    return kept or None


def select_items(
    s: Session, filters: list[Filter], repository: str | None = None, digest: str | None = None
) -> list[Item]:
    """The top-level artifacts the filters select (optionally only in ``repository``,
    only ``digest``): an index's children travel with it."""
    by_type = {f.type: f for f in filters}
    name, tag = by_type.get("name"), by_type.get("tag")
    label, resource = by_type.get("label"), by_type.get("resource")
    children = set(s.scalars(select(ArtifactReference.child_id)))
    items = []
    repos = select(Repository).order_by(Repository.name)
    if repository is not None:
        repos = repos.where(Repository.name == repository)
    for repo in s.scalars(repos):
        if name and not glob_match(name.value, repo.name):
            continue
        for art in s.scalars(
            select(Artifact).where(Artifact.repository_id == repo.id).order_by(Artifact.id)
        ):
            if art.id in children or digest not in (None, art.digest):
                continue  # copied with its index
            media_type = art.manifest_media_type or art.media_type
            if resource and resource.value == "image" and media_type not in IMAGE_TYPES:
                continue
            if label and not _labels_selected(s, art.id, label):
                continue
            tags = sorted(s.scalars(select(Tag.name).where(Tag.artifact_id == art.id)))
            kept = tag_selected(tags, tag) if tags or tag is None else None
            if kept is None:
                continue
            items.append(Item(repo.name, art.digest, tuple(kept)))
    return items


def _labels_selected(s: Session, artifact_id: int, flt: Filter) -> bool:
    names = set(
        s.scalars(
            select(Label.name)
            .join(ArtifactLabel, ArtifactLabel.label_id == Label.id)
            .where(ArtifactLabel.artifact_id == artifact_id)
        )
    )
    has_all = set(flt.value) <= names
    return not has_all if flt.decoration == "excludes" else has_all
