"""The small-chunk fast path (the chunk read into memory, one call) and the general
streamed path give the same answers on the same inputs: offsets, refusals, stored bytes."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest

from harbor_api.auth.principal import Principal
from harbor_api.errors import HarborError
from harbor_api.registry import paths
from harbor_api.services.oci.upload_sessions import ChunkOutOfOrderError, ChunkRange
from tests.unit.oci.conftest import ADMIN, ROBOT, Core, sha256

NAME = "library/app"
Step = tuple[bytes, ChunkRange | None, int | None]  # body, declared range, declared length

SCENARIOS: dict[str, list[Step]] = {
    "plain chunks": [(b"a" * 10, None, None), (b"b" * 70_000, None, None), (b"", None, None)],
    "ranged chunks": [(b"abc", ChunkRange(0, 2), 3), (b"defg", ChunkRange(3, 6), 4)],
    "a gap": [(b"abc", None, 3), (b"xyz", ChunkRange(4, 6), 3), (b"def", None, 3)],
    "a replayed chunk": [(b"abc", ChunkRange(0, 2), 3), (b"abc", ChunkRange(0, 2), 3)],
    "length disagrees": [(b"abc", ChunkRange(0, 2), 4), (b"abc", None, None)],
    "range disagrees with the body": [(b"abc", ChunkRange(0, 3), None), (b"ab", None, None)],
    "past the byte limit": [(b"1234", None, 4), (b"5", None, 1), (b"67", None, None)],
}


def _fast(core: Core, who: Principal, upload_id: str, step: Step) -> int:
    body, chunk, declared = step
    return core.sessions_with(max_upload_bytes_per_user=5).append_bytes(
        who, NAME, upload_id, body, chunk, declared
    )


def _streamed(core: Core, who: Principal, upload_id: str, step: Step) -> int:
    body, chunk, declared = step
    pieces = [body[i : i + 1000] for i in range(0, len(body), 1000)]
    sessions = core.sessions_with(max_upload_bytes_per_user=5)
    return anyio.run(sessions.append, who, NAME, upload_id, pieces, chunk, declared)


def _answers(
    core: Core,
    who: Principal,
    steps: list[Step],
    append: Callable[[Core, Principal, str, Step], int],
) -> list[object]:
    upload_id = core.sessions.start(who, NAME).upload_id
    answers: list[object] = []
    for step in steps:
        try:
            answers.append(append(core, who, upload_id, step))
        except ChunkOutOfOrderError as refused:
            answers.append(("out of order at", refused.offset))
        except HarborError as refused:
            answers.append((refused.code, refused.message))
    state = core.sessions.state(who, NAME, upload_id)
    stored = core.driver.get(paths.upload_data_key(upload_id)) if state.offset else b""
    answers.append(("offset", state.offset, sha256(stored[: state.offset])))
    core.sessions.cancel(who, NAME, upload_id)  # the next run starts with the same allowance
    return answers


@pytest.mark.parametrize("who", [ADMIN, ROBOT], ids=["admin", "limited robot"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_fast_and_the_streamed_path_agree(core: Core, scenario: str, who: Principal):
    fast = _answers(core, who, SCENARIOS[scenario], _fast)
    streamed = _answers(core, who, SCENARIOS[scenario], _streamed)
    assert fast == streamed
