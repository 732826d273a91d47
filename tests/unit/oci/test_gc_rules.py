"""Garbage collection's mark and sweep rules in-process (docs/gc.md): what is referenced,
the time window, delete_untagged's keep rules, the compare-and-set a push races against,
dry run, stop, quotas given back, and a run interrupted after its claim."""

from __future__ import annotations

import datetime as dt

import anyio
import pytest
from sqlalchemy import select, update

from harbor_api.db.base import utcnow
from harbor_api.db.models import Artifact, Blob, Project, Quota
from harbor_api.errors import BlobUploadUnknownError, ManifestBlobUnknownError
from harbor_api.services.gc_sweep import Sweeper
from harbor_api.services.gc_untagged import delete_untagged
from harbor_api.services.oci import blob_states
from harbor_api.services.oci.manifests import Manifests, parse_reference
from tests.support.oci import OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, canonical, descriptor
from tests.unit.oci.conftest import ADMIN, Core, sha256

NAME = "library/app"


@pytest.fixture()
def manifests(core: Core) -> Manifests:
    return Manifests(core.db, core.blobs)


def _blob(core: Core, data: bytes) -> dict:
    anyio.run(core.sessions.push_blob, ADMIN, NAME, sha256(data), [data])
    return descriptor(OCI_LAYER, data)


def _image(core: Core, layer: bytes, config: bytes = b'{"os":"linux"}', **extra) -> bytes:
    _blob(core, config)
    return canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, config),
            "layers": [_blob(core, layer)],
            **extra,
        }
    )


def _put(manifests: Manifests, reference: str, body: bytes, media_type: str = OCI_MANIFEST):
    return manifests.put(ADMIN, NAME, parse_reference(reference), body, media_type)


def _age_everything(core: Core, seconds: int = 3600) -> None:
    """As if every blob and artifact was last used ``seconds`` ago."""
    past = utcnow() - dt.timedelta(seconds=seconds)
    with core.db.transaction() as s:
        s.execute(update(Blob).values(touched_at=past, creation_time=past))
        s.execute(update(Artifact).values(push_time=past))


def _digests(core: Core) -> set[str]:
    with core.db.read() as s:
        return set(s.scalars(select(Blob.digest)))


def _sweeper(core: Core, window: float = 60, **kw) -> Sweeper:
    return Sweeper(core.db, core.driver, window, **kw)


def test_referenced_blobs_stay_unreferenced_old_ones_go(core: Core, manifests: Manifests):
    kept = _put(manifests, "v1", _image(core, b"layer-kept"))
    _blob(core, b"orphan")  # uploaded, never referenced
    _age_everything(core)
    report = _sweeper(core).sweep()
    assert (report.blobs, report.manifests, report.freed_bytes) == (1, 0, len(b"orphan"))
    assert sha256(b"orphan") not in _digests(core)
    assert not core.blobs.exists(sha256(b"orphan"))
    assert {kept.digest, sha256(b"layer-kept"), sha256(b'{"os":"linux"}')} <= _digests(core)
    assert core.blobs.exists(sha256(b"layer-kept"))


def test_the_time_window_protects_what_was_used_recently(core: Core, manifests: Manifests):
    _blob(core, b"old")
    _age_everything(core)
    _blob(core, b"fresh")
    _blob(core, b"old")  # pushed again: touched, so inside the window again
    assert _sweeper(core, window=600).sweep().blobs == 0
    assert {sha256(b"old"), sha256(b"fresh")} <= _digests(core)


def test_deleted_artifacts_leave_orphaned_manifests_and_layers(core: Core, manifests: Manifests):
    pushed = _put(manifests, "v1", _image(core, b"gone-layer"))
    manifests.delete(ADMIN, NAME, parse_reference(pushed.digest))
    _age_everything(core)
    report = _sweeper(core).sweep()
    assert (report.blobs, report.manifests) == (2, 1)  # layer + config, the manifest
    assert pushed.digest not in _digests(core) and not core.blobs.exists(pushed.digest)


def test_dry_run_reports_and_deletes_nothing(core: Core):
    _blob(core, b"orphan")
    _age_everything(core)
    report = _sweeper(core).dry_run()
    assert (report.blobs, report.freed_bytes) == (1, 6)
    assert sha256(b"orphan") in _digests(core) and core.blobs.exists(sha256(b"orphan"))


def test_stop_before_the_first_batch_deletes_nothing(core: Core):
    _blob(core, b"orphan")
    _age_everything(core)
    report = _sweeper(core, should_stop=lambda: True).sweep()
    assert report.stopped and report.blobs == 0
    assert sha256(b"orphan") in _digests(core)


def test_quota_usage_is_given_back(core: Core):
    with core.db.transaction() as s:
        project_id = s.scalar(select(Project.id).where(Project.name == "library"))
        s.add(Quota(project_id=project_id, hard=-1, used=0, reserved=0))
    _blob(core, b"x" * 100)
    with core.db.read() as s:
        assert s.scalar(select(Quota.used).where(Quota.project_id == project_id)) == 100
    _age_everything(core)
    _sweeper(core).sweep()
    with core.db.read() as s:
        assert s.scalar(select(Quota.used).where(Quota.project_id == project_id)) == 0


def test_the_claim_rechecks_the_row_a_push_touched_meanwhile(core: Core):
    """The race in one step: the sweep chose a blob, a push touched it before the
    compare-and-set; the compare-and-set claims nothing."""
    _blob(core, b"re-pushed")
    _age_everything(core)
    sweeper = _sweeper(core)
    cutoff = utcnow() - sweeper.grace
    with core.db.read() as s:
        ids = list(s.scalars(select(Blob.id).where(Blob.digest == sha256(b"re-pushed"))))
    with core.db.transaction() as s:
        assert blob_states.touch(s, [sha256(b"re-pushed")]) == set()
    assert sweeper._claim(ids, cutoff) == []


def test_a_manifest_referencing_a_claimed_blob_is_refused(core: Core, manifests: Manifests):
    """HEAD said the layer exists, the client skipped it; a collection claimed it before
    the manifest arrived: the manifest is refused, never acknowledged without its layer."""
    body = _image(core, b"claimed-layer")
    with core.db.transaction() as s:
        s.execute(
            update(Blob)
            .where(Blob.digest == sha256(b"claimed-layer"))
            .values(status=blob_states.DELETING)
        )
    with pytest.raises(ManifestBlobUnknownError):
        _put(manifests, "v1", body)
    with core.db.read() as s:
        assert s.scalar(select(Artifact.id)) is None


def test_storing_a_claimed_blob_waits_for_the_collection(core: Core):
    _blob(core, b"again")
    digest = sha256(b"again")
    with core.db.transaction() as s:
        s.execute(update(Blob).where(Blob.digest == digest).values(status=blob_states.DELETING))
    with pytest.raises(BlobUploadUnknownError):
        blob_states.wait_while_collected(core.db, digest, wait_seconds=0)
    _sweeper(core).sweep()  # the collection finishes: bytes, then row
    assert not core.blobs.exists(digest)
    _blob(core, b"again")  # the push now stores its own bytes under a fresh row
    assert core.blobs.exists(digest)
    with core.db.read() as s:
        assert s.scalar(select(Blob.status).where(Blob.digest == digest)) == blob_states.LIVE


def test_an_interrupted_run_is_finished_by_the_next(core: Core):
    _blob(core, b"half-done")
    with core.db.transaction() as s:  # claimed, then the process died
        s.execute(update(Blob).values(status=blob_states.DELETING))
    report = _sweeper(core, window=3600).sweep()
    assert report.blobs == 1 and not core.blobs.exists(sha256(b"half-done"))


def test_delete_untagged_keeps_children_of_tagged_indexes_and_accessories(
    core: Core, manifests: Manifests
):
    child = _put(manifests, sha256(_image(core, b"child")), _image(core, b"child"))
    index = canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{"mediaType": OCI_MANIFEST, "digest": child.digest, "size": child.size}],
        }
    )
    _put(manifests, "multi", index, OCI_INDEX)
    tagged = _put(manifests, "v1", _image(core, b"tagged"))
    subject = {"mediaType": OCI_MANIFEST, "digest": tagged.digest, "size": tagged.size}
    signature = _image(core, b"signature", config=b'{"sig":1}', subject=subject)
    accessory = _put(manifests, sha256(signature), signature)
    lonely_body = _image(core, b"lonely")
    lonely = _put(manifests, sha256(lonely_body), lonely_body)
    lonely_sig = _image(
        core,
        b"lonely-sig",
        config=b'{"sig":2}',
        subject={"mediaType": OCI_MANIFEST, "digest": lonely.digest, "size": lonely.size},
    )
    lonely_accessory = _put(manifests, sha256(lonely_sig), lonely_sig)
    _age_everything(core)
    assert delete_untagged(core.db, 60, dry_run=True).artifacts == 1
    assert delete_untagged(core.db, 60, dry_run=False).artifacts == 2  # with its accessory
    with core.db.read() as s:
        left = set(s.scalars(select(Artifact.digest)))
    assert {child.digest, tagged.digest, accessory.digest} <= left
    assert lonely.digest not in left and lonely_accessory.digest not in left
    report = _sweeper(core).sweep()
    assert report.manifests == 2 and not core.blobs.exists(sha256(b"lonely"))
    assert core.blobs.exists(sha256(b"child")) and core.blobs.exists(sha256(b"signature"))


def test_delete_untagged_spares_artifacts_pushed_within_the_window(
    core: Core, manifests: Manifests
):
    body = _image(core, b"just-pushed")
    _put(manifests, sha256(body), body)  # an index's child pushed a moment ago
    assert delete_untagged(core.db, 600, dry_run=False).artifacts == 0


def test_a_link_is_refused_when_the_bytes_went_with_an_earlier_row(core: Core):
    """A collection of an earlier row of the digest deleted bytes written meanwhile: the
    row the link creates would be live without bytes, so the link is refused."""
    data = b"written-then-collected"
    with core.db.transaction() as s, pytest.raises(BlobUploadUnknownError):
        blob_states.hold(s, sha256(data), len(data), "application/octet-stream", core.blobs.exists)
    _blob(core, data)  # pushed again: stored and linked
    assert core.blobs.exists(sha256(data))
