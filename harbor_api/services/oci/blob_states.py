"""The push side of online garbage collection (``docs/gc.md``): what a push does so that a
collection running at the same time never deletes a blob from under it.

A collection claims an unreferenced blob row with a compare-and-set
(``status: none -> deleting``, only while ``touched_at`` is older than its grace window),
then deletes the bytes, then the row. A push therefore

* **claims before it writes**: before bytes go under a blob key (a finished upload, a
  monolithic upload, a manifest) the row is created or touched while it is ``none``; a row
  that is ``deleting`` is waited out (the collection is deleting it right now), so the bytes
  written next are never the ones the collection deletes;
* **touches what it links or references**, in the transaction that links or references it:
  an UPDATE of the row while it is ``none`` (the collection's compare-and-set then either
  waits for this transaction and sees the fresh ``touched_at``, or has already won, and the
  push is refused: the blob is being collected and must be uploaded again).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from harbor_api.db.base import utcnow
from harbor_api.db.models import Blob
from harbor_api.db.session import Database
from harbor_api.errors import BlobUploadUnknownError
from harbor_api.services.oci.upserts import insert_ignoring_conflicts, table

LIVE = "none"
DELETING = "deleting"
#: How long a push waits for a collection to finish deleting a blob it wants to store again.
CLAIM_WAIT_SECONDS = 30.0
_POLL_SECONDS = 0.02


def touch(session: Session, digests: Iterable[str]) -> set[str]:
    """Refresh ``touched_at`` of the live rows among ``digests``; return the digests whose
    row a collection has claimed (``deleting``). Digests without a row are not returned."""
    wanted = sorted(set(digests))  # one lock order for every pusher
    if not wanted:
        return set()
    blobs = table(Blob)
    session.connection().execute(
        update(blobs)
        .where(blobs.c.digest.in_(wanted), blobs.c.status == LIVE)
        .values(touched_at=utcnow())
    )
    return set(
        session.connection()
        .execute(select(blobs.c.digest).where(blobs.c.digest.in_(wanted), blobs.c.status != LIVE))
        .scalars()
    )


def claim(
    db: Database,
    digest: str,
    size: int,
    media_type: str = "application/octet-stream",
    wait_seconds: float = CLAIM_WAIT_SECONDS,
) -> None:
    """Before bytes are written under ``digest``'s blob key: make sure its row exists and is
    live and freshly touched (waiting while a collection deletes it)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        with db.transaction() as session:
            insert_ignoring_conflicts(
                session,
                Blob,
                {
                    "digest": digest,
                    "size": size,
                    "media_type": media_type,
                    "creation_time": utcnow(),
                    "touched_at": utcnow(),
                    "status": LIVE,
                },
            )
            if not touch(session, [digest]):
                return
        if time.monotonic() >= deadline:
            raise being_collected(digest)
        time.sleep(_POLL_SECONDS)


def being_collected(digest: str) -> BlobUploadUnknownError:
    return BlobUploadUnknownError(
        f"blob {digest} is being garbage collected: upload it again",
        detail={"digest": digest},
    )
