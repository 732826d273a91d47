"""What a pull-mode execution copies: the source endpoint's artifacts that a policy's
filters select, listed through its adapter (``name`` and ``tag`` globs; ``label`` only
where the source reports labels, i.e. the ``harbor`` adapter; ``resource``).

Only tagged artifacts of a ``docker-registry`` source can be found (Distribution lists
tags, not manifests); the children of an index travel with it either way.
"""

from __future__ import annotations

import json

from harbor_api.adapters import Adapter, Artifact
from harbor_api.adapters.copy import INDEX_TYPES
from harbor_api.services.replication.filters import Filter, glob_match
from harbor_api.services.replication.plan import IMAGE_TYPES, Item, tag_selected


def select_remote_items(source: Adapter, filters: list[Filter]) -> list[Item]:
    by_type = {f.type: f for f in filters}
    name, tag = by_type.get("name"), by_type.get("tag")
    label, resource = by_type.get("label"), by_type.get("resource")
    items = []
    for repository in source.list_repositories():
        if name and not glob_match(name.value, repository):
            continue
        listed = source.list_artifacts(repository)
        children = _children_of_indexes(source, repository, listed)
        for art in listed:
            if art.digest in children:
                continue  # copied with its index
            if resource and resource.value == "image" and art.media_type not in IMAGE_TYPES:
                continue
            if label:
                has_all = set(label.value) <= set(art.labels)
                if has_all == (label.decoration == "excludes"):
                    continue
            tags = sorted(art.tags)
            kept = tag_selected(tags, tag) if tags or tag is None else None
            if kept is None:
                continue
            items.append(Item(repository, art.digest, tuple(kept)))
    return items


def _children_of_indexes(source: Adapter, repository: str, listed: list[Artifact]) -> set[str]:
    """The digests the listed indexes refer to (a Harbor source lists them too)."""
    children: set[str] = set()
    digests = {a.digest for a in listed}
    for art in listed:
        if art.media_type in INDEX_TYPES and len(digests) > 1:
            body = json.loads(source.get_manifest(repository, art.digest).content)
            children |= {m["digest"] for m in body.get("manifests") or []}
    return children
