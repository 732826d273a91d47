"""Storage drivers: a narrow interface (``base``) and its implementations."""

from __future__ import annotations

from pathlib import Path

from harbor_api.registry.storage.base import StorageDriver


def make_driver(kind: str, root: Path) -> StorageDriver:
    """The driver named in the settings; an unknown name is an error, never a fake."""
    if kind == "filesystem":
        from harbor_api.registry.storage.filesystem import FilesystemDriver

        return FilesystemDriver(root)
    raise ValueError(f"storage driver {kind!r} is not available")
