"""The push side of online garbage collection (``docs/gc.md``): what a push does so that a
collection running at the same time never deletes a blob from under it.

The invariant: **a live blob row has its bytes.** A collection deletes bytes only of rows it
has claimed with a compare-and-set (``status: none -> deleting``), then deletes the rows;
it never turns a claimed row live again. So a push

* **holds the row in the transaction that links it** (:func:`hold`): the row is created if
  missing and updated (``touched_at``) while ``none`` -- that UPDATE locks it until the push
  commits, so no claim can take it meanwhile -- and the bytes are checked to be in storage
  under that lock (a collection of an earlier row of the same digest may have deleted bytes
  written before that row went). A row being collected, or bytes gone, refuse the link;
* **touches what its manifest references** (:func:`touch`) in the manifest's transaction:
  a referenced blob a collection has claimed refuses the manifest (MANIFEST_BLOB_UNKNOWN:
  the client uploads it again); the others stay locked and fresh until the manifest commits;
* before writing bytes, **waits while a collection deletes that digest**
  (:func:`wait_while_collected`), so what it writes is not what is being deleted.

No extra transaction on the push path: the checks run in the transactions a push has anyway.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from sqlalchemy import CursorResult, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from harbor_api.db.base import utcnow
from harbor_api.db.models import Blob
from harbor_api.db.session import Database
from harbor_api.errors import BlobCollectedError
from harbor_api.services.oci.upserts import table

LIVE = "none"
DELETING = "deleting"
#: How long a push waits for a collection to finish deleting a blob it wants to store again.
WAIT_SECONDS = 30.0
_POLL_SECONDS = 0.02


def being_collected(digest: str) -> BlobCollectedError:
    return BlobCollectedError(
        f"blob {digest} is being garbage collected: upload it again",
        detail={"digest": digest},
    )


def touch(session: Session, digests: Iterable[str]) -> set[str]:
    """Refresh ``touched_at`` of the live rows among ``digests`` (locking them until the
    transaction ends); return the digests a collection has claimed. Digests without a row
    are not returned."""
    wanted = sorted(set(digests))  # one lock order for every pusher
    if not wanted:
        return set()
    blobs = table(Blob)
    result: CursorResult = session.connection().execute(  # type: ignore[type-arg]
        update(blobs)
        .where(blobs.c.digest.in_(wanted), blobs.c.status == LIVE)
        .values(touched_at=utcnow())
    )
    if result.rowcount == len(wanted):
        return set()
    return set(
        session.connection()
        .execute(select(blobs.c.digest).where(blobs.c.digest.in_(wanted), blobs.c.status != LIVE))
        .scalars()
    )


def hold(
    session: Session,
    digest: str,
    size: int,
    media_type: str,
    stored: Callable[[str], bool],
) -> int:
    """In the transaction that links ``digest``: make its row exist, live and locked, and
    its bytes present, or raise :class:`BlobCollectedError`; returns the row's id.

    One statement: an insert that, on a conflict with a live row, refreshes its
    ``touched_at`` (which locks it, as :func:`touch` does) and returns its id; a row a
    collection has claimed is neither updated nor returned."""
    now = utcnow()
    blobs = table(Blob)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(blobs)
        .values(
            digest=digest,
            size=size,
            media_type=media_type,
            creation_time=now,
            touched_at=now,
            status=LIVE,
        )
        .on_conflict_do_update(
            index_elements=[blobs.c.digest],
            set_={"touched_at": now},
            where=blobs.c.status == LIVE,
        )
        .returning(blobs.c.id)
    )
    blob_id = session.connection().execute(statement).scalar()
    if blob_id is None or not stored(digest):
        raise being_collected(digest)
    return int(blob_id)


def wait_while_collected(db: Database, digest: str, wait_seconds: float = WAIT_SECONDS) -> None:
    """Before writing ``digest``'s bytes: wait while a collection is deleting its row (then
    the bytes written are not the ones it deletes). Reads only."""
    deadline = time.monotonic() + wait_seconds
    blobs = table(Blob)
    query = select(blobs.c.status).where(blobs.c.digest == digest)
    while True:
        with db.read() as session:
            status = session.connection().execute(query).scalar()
        if status in (None, LIVE):
            return
        if time.monotonic() >= deadline:
            raise being_collected(digest)
        time.sleep(_POLL_SECONDS)
