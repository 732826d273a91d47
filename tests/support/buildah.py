"""buildah (the Debian package) as root with all its state in a temp dir (vfs storage).

Nothing is run inside containers: images are built ``FROM scratch`` by copying files into
the working container's root (a plain directory with vfs) and committing it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path


class Buildah:
    def __init__(self, root: Path):
        self.root = Path(root)
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        self.runroot = tempfile.mkdtemp(prefix="bhrun-", dir="/tmp")  # keep socket paths short
        self.base = [
            "buildah",
            "--root",
            str(self.root / "storage"),
            "--runroot",
            self.runroot,
            "--storage-driver",
            "vfs",
        ]
        self.auth_file = self.root / "auth.json"
        self.auth_file.write_text('{"auths": {}}')
        self.env = {
            **os.environ,
            "REGISTRY_AUTH_FILE": str(self.auth_file),
            "TMPDIR": str(self.root / "tmp"),
            "STORAGE_DRIVER": "vfs",
        }

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.base, *args], capture_output=True, text=True, timeout=timeout, env=self.env
        )

    def __call__(self, *args: str, timeout: float = 180) -> str:
        proc = self.run(*args, timeout=timeout)
        if proc.returncode != 0:
            raise AssertionError(
                f"buildah {' '.join(args)} failed rc={proc.returncode}:\n"
                f"{(proc.stderr or proc.stdout)[-3000:]}"
            )
        return proc.stdout.strip()

    def fails(self, *args: str, timeout: float = 180) -> str:
        proc = self.run(*args, timeout=timeout)
        assert proc.returncode != 0, f"buildah {' '.join(args)} succeeded:\n{proc.stdout}"
        return proc.stdout + proc.stderr

    def build_scratch(self, name: str, files: dict[str, bytes]) -> str:
        """``FROM scratch`` + ``files`` (path -> content), committed as ``name``; its image id."""
        source = self.root / "tmp" / f"ctx-{name.replace('/', '_')}"
        container = self("from", "scratch")
        try:
            for path, content in files.items():
                local = source / path.lstrip("/")
                local.parent.mkdir(parents=True, exist_ok=True)
                local.write_bytes(content)
                self("copy", container, str(local), path)
            self("config", "--cmd", "/bin/true", "--label", f"e2e.name={name}", container)
            return self("commit", "-q", container, name)
        finally:
            self.run("rm", container)
            shutil.rmtree(source, ignore_errors=True)

    def inspect_image(self, ref: str) -> dict:
        return json.loads(self("inspect", "--type", "image", ref))

    def read_file(self, image: str, path: str) -> bytes:
        """A file of ``image``'s filesystem (a container is mounted, read, removed)."""
        container = self("from", "--pull=never", image)
        try:
            return (Path(self("mount", container)) / path.lstrip("/")).read_bytes()
        finally:
            self.run("umount", container)
            self.run("rm", container)

    def cleanup(self) -> None:
        """vfs layers are plain directories: drop them."""
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.runroot, ignore_errors=True)
