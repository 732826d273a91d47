"""How an artifact reads in the API: its type, tags, labels, index children, accessories and
config attributes, loaded for a whole page at once (one query per relation, never per row)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbor_api.db.models import Artifact, ArtifactLabel, ArtifactReference, Label, Repository, Tag
from harbor_api.services import image_config, immutability, labels
from harbor_api.services.formats import iso

IMAGE_CONFIG_TYPES = frozenset(
    {"application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"}
)
INDEX_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)
TYPE_BY_MEDIA_TYPE = {
    "application/vnd.cncf.helm.config.v1+json": "CHART",
    "application/vnd.cnab.manifest.v1": "CNAB",
    "application/vnd.wasm.config.v1+json": "WASM",
    "application/vnd.module.wasm.config.v1+json": "WASM",
    "application/vnd.goharbor.harbor.sbom.v1": "SBOM",
    "application/vnd.dev.cosign.artifact.sig.v1+json": "SIGNATURE",
    "application/vnd.cncf.notary.signature": "SIGNATURE",
}
ACCESSORY_TYPES = {
    "application/vnd.dev.cosign.artifact.sig.v1+json": "signature.cosign",
    "application/vnd.cncf.notary.signature": "signature.notation",
    "application/vnd.goharbor.harbor.sbom.v1": "harbor.sbom",
    "application/vnd.dev.cosign.artifact.sbom.v1+json": "sbom.cosign",
}


def artifact_type(media_type: str, manifest_media_type: str) -> str:
    if media_type in IMAGE_CONFIG_TYPES or manifest_media_type in INDEX_TYPES:
        return "IMAGE"
    return TYPE_BY_MEDIA_TYPE.get(media_type, "UNKNOWN")


def media_types_of(kind: str) -> tuple[set[str], set[str]]:
    """(config media types, manifest media types) an API ``type`` stands for."""
    kind = kind.upper()
    if kind == "IMAGE":
        return set(IMAGE_CONFIG_TYPES), set(INDEX_TYPES)
    return {m for m, t in TYPE_BY_MEDIA_TYPE.items() if t == kind}, set()


def accessory_type(a: Artifact) -> str:
    return (
        ACCESSORY_TYPES.get(a.artifact_type)
        or ACCESSORY_TYPES.get(a.media_type)
        or "subject.accessory"
    )


@dataclass(frozen=True)
class Options:
    with_tag: bool = True
    with_label: bool = False
    with_accessory: bool = False
    with_signature: bool = False
    with_immutable_status: bool = False


def _loads(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def render_tag(tag: Tag, signed: bool | None = None, immutable: bool | None = None) -> dict:
    out = {
        "id": tag.id,
        "repository_id": tag.repository_id,
        "artifact_id": tag.artifact_id,
        "name": tag.name,
        "push_time": iso(tag.push_time),
        "pull_time": iso(tag.pull_time),
        "immutable": bool(immutable),
    }
    if signed is not None:
        out["signed"] = signed
    return out


def render_accessory(a: Artifact, subject: Artifact, repo_name: str) -> dict:
    return {
        "id": a.id,
        "artifact_id": a.id,
        "subject_artifact_id": subject.id,
        "subject_artifact_digest": subject.digest,
        "subject_artifact_repo": repo_name,
        "size": a.size,
        "digest": a.digest,
        "type": accessory_type(a),
        "icon": "",
        "creation_time": iso(a.push_time),
    }


def render_many(
    session: Session, storage: Any, repo: Repository, artifacts: list[Artifact], opts: Options
) -> list[dict]:
    """Render a page of artifacts of one repository with a fixed number of queries."""
    ids = [a.id for a in artifacts]
    tags: dict[int, list[Tag]] = defaultdict(list)
    if opts.with_tag and ids:
        for tag in session.scalars(
            select(Tag)
            .where(Tag.artifact_id.in_(ids))
            .order_by(Tag.push_time.desc(), Tag.id.desc())
        ):
            tags[tag.artifact_id].append(tag)
    attached: dict[int, list[Label]] = defaultdict(list)
    if opts.with_label and ids:
        for artifact_id, label in session.execute(
            select(ArtifactLabel.artifact_id, Label)
            .join(Label, Label.id == ArtifactLabel.label_id)
            .where(ArtifactLabel.artifact_id.in_(ids))
            .order_by(ArtifactLabel.id)
        ):
            attached[artifact_id].append(label)
    references: dict[int, list[ArtifactReference]] = defaultdict(list)
    index_ids = [a.id for a in artifacts if a.manifest_media_type in INDEX_TYPES]
    if index_ids:  # only an index has children
        for ref in session.scalars(
            select(ArtifactReference)
            .where(ArtifactReference.parent_id.in_(index_ids))
            .order_by(ArtifactReference.id)
        ):
            references[ref.parent_id].append(ref)
    accessories: dict[str, list[Artifact]] = defaultdict(list)
    signed: set[str] = set()
    if (opts.with_accessory or opts.with_signature) and ids:
        for acc in session.scalars(
            select(Artifact)
            .where(
                Artifact.repository_id == repo.id,
                Artifact.subject_digest.in_([a.digest for a in artifacts]),
            )
            .order_by(Artifact.id)
        ):
            accessories[acc.subject_digest or ""].append(acc)
            if accessory_type(acc).startswith("signature."):
                signed.add(acc.subject_digest or "")
    project_id = repo.project_id
    rules = (
        immutability.enabled_rules(session, project_id)
        if opts.with_tag and opts.with_immutable_status and tags
        else []
    )
    out = []
    for a in artifacts:
        item = _render(a, repo, project_id, storage)
        if opts.with_tag:
            item["tags"] = [
                render_tag(
                    t,
                    a.digest in signed if opts.with_signature else None,
                    immutability.is_protected(rules, repo.name, t.name),
                )
                for t in tags.get(a.id, [])
            ]
        if opts.with_label:
            item["labels"] = [labels.render(lb) for lb in attached.get(a.id, [])]
        item["references"] = [
            {
                "parent_id": r.parent_id,
                "child_id": r.child_id,
                "child_digest": r.child_digest,
                "platform": _loads(r.platform),
                "annotations": _loads(r.annotations),
                "urls": None,
            }
            for r in references.get(a.id, [])
        ] or None
        if opts.with_accessory:
            item["accessories"] = [
                render_accessory(acc, a, repo.name) for acc in accessories.get(a.digest, [])
            ] or None
        out.append(item)
    return out


def _render(a: Artifact, repo: Repository, project_id: int, storage: Any) -> dict:
    kind = artifact_type(a.media_type, a.manifest_media_type)
    extra = None
    links = None
    if kind == "IMAGE" and a.manifest_media_type not in INDEX_TYPES:
        extra = image_config.config_info(storage, a.config_digest).get("extra_attrs")
        path = repo.name.split("/", 1)[1]
        project = repo.name.split("/", 1)[0]
        links = {
            "build_history": {
                "href": f"/api/v2.0/projects/{project}/repositories/{quote(quote(path, ''), '')}"
                f"/artifacts/{a.digest}/additions/build_history",
                "absolute": False,
            }
        }
    return {
        "id": a.id,
        "type": kind,
        "media_type": a.media_type,
        "manifest_media_type": a.manifest_media_type,
        "artifact_type": a.artifact_type or a.media_type,
        "project_id": project_id,
        "repository_id": a.repository_id,
        "repository_name": repo.name,
        "digest": a.digest,
        "size": a.size,
        "push_time": iso(a.push_time),
        "pull_time": iso(a.pull_time),
        "extra_attrs": extra,
        "annotations": _loads(a.annotations),
        "addition_links": links,
    }
