"""Repository names, tags and references, after the OCI distribution grammar.

A repository name is ``<project>/<path>``: at least two components, the first being the
project. Components are lowercase alphanumerics joined by ``.``, ``_``, ``__`` or dashes, so
no component can be ``.`` or ``..`` and no name can escape the storage layout.
"""

from __future__ import annotations

import re

from harbor_api.errors import NameInvalidError
from harbor_api.registry.digest import is_digest

MAX_NAME_LENGTH = 255
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_NAME = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})+$")
_TAG = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")


def validate_repository_name(name: str) -> str:
    if len(name) > MAX_NAME_LENGTH or not _NAME.match(name):
        raise NameInvalidError(
            f"invalid repository name {name[:300]!r}: expected "
            "<project>/<repository> in lowercase OCI name grammar"
        )
    return name


def is_repository_name(name: str) -> bool:
    return len(name) <= MAX_NAME_LENGTH and bool(_NAME.match(name))


def project_of(name: str) -> str:
    """The project a repository belongs to: its first path component."""
    return name.split("/", 1)[0]


def is_tag(reference: str) -> bool:
    return bool(_TAG.match(reference))


def is_reference(reference: str) -> bool:
    """A manifest reference is a tag or a digest."""
    return is_tag(reference) or is_digest(reference)
