"""The upload state machine in-process: start, append under the lock, offsets, finish with
digest verification, the retries after a crash, cancel, limits, whole-blob pushes, mounts."""

from __future__ import annotations

import anyio
import pytest

from harbor_api.auth.principal import ANONYMOUS
from harbor_api.errors import (
    BlobUploadUnknownError,
    DigestInvalidError,
    NameUnknownError,
    RangeInvalidError,
    TooManyRequestsError,
    UnauthorizedError,
)
from harbor_api.registry import paths
from harbor_api.services.oci import repositories
from harbor_api.services.oci import upload_records as records
from harbor_api.services.oci.upload_sessions import (
    ChunkOutOfOrderError,
    ChunkRange,
    StoredBlob,
    UploadSessions,
)
from tests.unit.oci.conftest import ADMIN, ROBOT, Core, sha256

NAME = "library/app"


def linked_size(core: Core, name: str, digest: str) -> int | None:
    with core.db.read() as s:
        return repositories.linked_blob_size(s, name, digest)


def test_a_chunked_upload_advances_and_finishes_into_a_linked_blob(core: Core):
    sessions = core.sessions
    started = sessions.start(ADMIN, NAME)
    assert started.offset == 0
    assert sessions.append_bytes(ADMIN, NAME, started.upload_id, b"hello ") == 6
    assert (
        sessions.append_bytes(ADMIN, NAME, started.upload_id, b"world", ChunkRange(6, 10), 5) == 11
    )
    assert sessions.state(ADMIN, NAME, started.upload_id).offset == 11
    stored = sessions.finish(ADMIN, NAME, started.upload_id, sha256(b"hello world"))
    assert stored == StoredBlob(NAME, sha256(b"hello world"), 11)
    assert core.blobs.get(stored.digest) == b"hello world"
    assert linked_size(core, NAME, stored.digest) == 11
    with pytest.raises(BlobUploadUnknownError):  # the session is gone, row and files
        sessions.state(ADMIN, NAME, started.upload_id)
    assert core.files.stored_size(started.upload_id) is None


def test_an_empty_blob_finishes_without_any_session_bytes(core: Core):
    started = core.sessions.start(ADMIN, NAME)
    stored = core.sessions.finish(ADMIN, NAME, started.upload_id, sha256(b""))
    assert stored.size == 0 and core.blobs.get(sha256(b"")) == b""


def test_a_chunk_that_does_not_continue_the_session_is_refused_at_its_offset(core: Core):
    upload_id = core.sessions.start(ADMIN, NAME).upload_id
    core.sessions.append_bytes(ADMIN, NAME, upload_id, b"abc")
    with pytest.raises(ChunkOutOfOrderError) as refused:
        core.sessions.append_bytes(ADMIN, NAME, upload_id, b"def", ChunkRange(5, 7), 3)
    assert refused.value.offset == 3 and refused.value.status == 416
    with pytest.raises(ChunkOutOfOrderError):  # the declared length disagrees
        core.sessions.append_bytes(ADMIN, NAME, upload_id, b"def", ChunkRange(3, 5), 4)
    assert core.sessions.state(ADMIN, NAME, upload_id).offset == 3


def test_a_second_writer_of_a_locked_session_is_refused_not_mixed_in(core: Core):
    upload_id = core.sessions.start(ADMIN, NAME).upload_id
    held = core.files.lock(upload_id)
    try:
        with pytest.raises(RangeInvalidError, match="being written by another request"):
            core.sessions.append_bytes(ADMIN, NAME, upload_id, b"x")
    finally:
        held.release()
    assert core.sessions.append_bytes(ADMIN, NAME, upload_id, b"x") == 1


def test_a_wrong_digest_leaves_the_session_open_for_the_right_one(core: Core):
    upload_id = core.sessions.start(ADMIN, NAME).upload_id
    core.sessions.append_bytes(ADMIN, NAME, upload_id, b"content")
    with pytest.raises(DigestInvalidError):
        core.sessions.finish(ADMIN, NAME, upload_id, sha256(b"other"))
    assert not core.blobs.exists(sha256(b"other"))
    assert core.sessions.state(ADMIN, NAME, upload_id).offset == 7
    assert core.sessions.finish(ADMIN, NAME, upload_id, sha256(b"content")).size == 7


def test_an_append_that_died_before_its_commit_is_redone_from_the_offset(core: Core):
    upload_id = core.sessions.start(ADMIN, NAME).upload_id
    core.sessions.append_bytes(ADMIN, NAME, upload_id, b"first-")
    dying = core.sessions.open_chunk(ADMIN, NAME, upload_id)
    assert dying.writer is not None and dying.hasher is not None
    dying.hasher.update(b"garbage")
    dying.writer.write(b"garbage")  # the process dies here: no commit, no cancel
    dying.release()
    assert core.sessions.state(ADMIN, NAME, upload_id).offset == 6
    assert core.sessions.append_bytes(ADMIN, NAME, upload_id, b"second") == 12
    stored = core.sessions.finish(ADMIN, NAME, upload_id, sha256(b"first-second"))
    assert core.blobs.get(stored.digest) == b"first-second"


class _LinkDiesOnce(UploadSessions):
    """A finish whose process dies after the bytes moved under their blob key, before the
    repository link (fault injection at the one step between the two)."""

    died = False

    def link(
        self, name: str, project_id: int, digest: str, size: int, upload_id: str | None = None
    ) -> None:
        if upload_id is not None and not self.died:
            self.died = True
            raise RuntimeError("crash between the move and the link")
        super().link(name, project_id, digest, size, upload_id)


def _crashed_finish(core: Core, body: bytes) -> str:
    dying = _LinkDiesOnce(core.db, core.files, core.blobs, core.settings)
    upload_id = dying.start(ADMIN, NAME).upload_id
    dying.append_bytes(ADMIN, NAME, upload_id, body)
    core.files.hashers.drop(upload_id)  # the retry reaches another worker
    with pytest.raises(RuntimeError):
        dying.finish(ADMIN, NAME, upload_id, sha256(body))
    assert core.files.stored_size(upload_id) is None  # the bytes sit under the blob key
    assert linked_size(core, NAME, sha256(body)) is None
    return upload_id


def test_a_retried_finish_completes_what_a_crash_interrupted(core: Core):
    upload_id = _crashed_finish(core, b"payload")
    stored = core.sessions.finish(ADMIN, NAME, upload_id, sha256(b"payload"))
    assert stored.size == 7 and linked_size(core, NAME, sha256(b"payload")) == 7
    with core.db.read() as s:
        assert records.known_upload_ids(s, [upload_id]) == set()


def test_a_retried_finish_may_only_claim_the_digest_the_crashed_one_verified(core: Core):
    core.driver.put(paths.blob_key(sha256(b"someone")), b"someone")  # same size, other blob
    upload_id = _crashed_finish(core, b"payload")
    with pytest.raises(DigestInvalidError):
        core.sessions.finish(ADMIN, NAME, upload_id, sha256(b"someone"))
    assert linked_size(core, NAME, sha256(b"someone")) is None
    assert core.sessions.finish(ADMIN, NAME, upload_id, sha256(b"payload")).size == 7


def test_cancel_removes_the_session_and_its_bytes(core: Core):
    upload_id = core.sessions.start(ADMIN, NAME).upload_id
    core.sessions.append_bytes(ADMIN, NAME, upload_id, b"abc")
    core.sessions.cancel(ADMIN, NAME, upload_id)
    assert core.files.stored_size(upload_id) is None
    for attempt in (core.sessions.state, core.sessions.cancel):
        with pytest.raises(BlobUploadUnknownError):
            attempt(ADMIN, NAME, upload_id)


def test_sessions_are_authorised_and_bound_to_their_repository(core: Core):
    with pytest.raises(UnauthorizedError):
        core.sessions.start(ANONYMOUS, NAME)
    with pytest.raises(NameUnknownError):
        core.sessions.start(ADMIN, "missing/app")
    upload_id = core.sessions.start(ADMIN, NAME).upload_id
    with pytest.raises(BlobUploadUnknownError):  # another repository's session is unknown
        core.sessions.append_bytes(ADMIN, "library/other", upload_id, b"x")
    with pytest.raises(BlobUploadUnknownError):
        core.sessions.state(ADMIN, NAME, "../../etc")


def test_an_account_is_held_to_its_session_and_byte_limits(core: Core):
    limited = core.sessions_with(max_open_uploads_per_user=1, max_upload_bytes_per_user=4)
    upload_id = limited.start(ROBOT, NAME).upload_id
    with pytest.raises(TooManyRequestsError, match="too many open upload sessions"):
        limited.start(ROBOT, NAME)
    limited.start(ADMIN, NAME)  # administrators are not limited
    with pytest.raises(TooManyRequestsError):  # declared past the allowance: before a byte
        limited.append_bytes(ROBOT, NAME, upload_id, b"12345", declared=5)
    with pytest.raises(TooManyRequestsError):  # undeclared: refused at the byte past it
        anyio.run(limited.append, ROBOT, NAME, upload_id, [b"123", b"45"])
    assert limited.state(ROBOT, NAME, upload_id).offset == 0
    assert limited.append_bytes(ROBOT, NAME, upload_id, b"1234") == 4


@pytest.mark.parametrize("source", ["blocking", "async"])
def test_a_whole_blob_is_pushed_from_a_byte_iterator_without_a_request(core: Core, source):
    body = [b"layer-", b"bytes-" * 1000, b"end"]
    digest = sha256(b"".join(body))

    async def chunks():
        for chunk in body:
            yield chunk

    stream = chunks() if source == "async" else iter(body)
    stored = anyio.run(core.sessions.push_blob, ROBOT, NAME, digest, stream)
    assert stored == StoredBlob(NAME, digest, len(b"".join(body)))
    assert core.blobs.get(digest) == b"".join(body)
    assert linked_size(core, NAME, digest) == stored.size


def test_a_whole_blob_that_does_not_match_its_digest_leaves_nothing(core: Core):
    digest = sha256(b"claimed")
    with pytest.raises(DigestInvalidError):
        anyio.run(core.sessions.push_blob, ADMIN, NAME, digest, [b"actual"])
    assert not core.blobs.exists(digest) and linked_size(core, NAME, digest) is None
    assert list(core.driver.walk("")) == []


def test_a_mount_links_what_the_caller_may_pull_from_the_source(core: Core):
    digest = sha256(b"shared")
    anyio.run(core.sessions.push_blob, ADMIN, "other/base", digest, [b"shared"])
    assert core.sessions.mount(ROBOT, NAME, digest, "other/base") is False  # no pull there
    assert core.sessions.mount(ADMIN, NAME, sha256(b"absent"), "other/base") is False
    assert core.sessions.mount(ADMIN, NAME, digest, "other/base") is True
    assert linked_size(core, NAME, digest) == 6
