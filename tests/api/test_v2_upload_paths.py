"""A PATCH whose small body declares its length takes the fast path (read into memory,
stored in one thread hop); the same chunk streamed without a length takes the general path.
On the same inputs both give the same answers: status, Range, error code, final digest."""

import pytest

from tests.support.oci import sha256

pytestmark = pytest.mark.api

Step = tuple[bytes, str | None]  # body, Content-Range

SCENARIOS: dict[str, list[Step]] = {
    "in order": [(b"a" * 1000, None), (b"b" * 70_000, "1000-70999"), (b"c", None)],
    "a gap": [(b"abc", "0-2"), (b"xyz", "4-6"), (b"def", "3-5")],
    "a replay": [(b"abc", "0-2"), (b"abc", "0-2")],
    "malformed range": [(b"abc", "bytes=zero-two"), (b"abc", None)],
    "length disagrees": [(b"abc", "0-3")],
}


def _streamed(body: bytes):
    for start in range(0, len(body), 4096):
        yield body[start : start + 4096]


def _run(registry_client, repo: str, steps: list[Step], streamed: bool) -> list[object]:
    location = registry_client.start_upload(repo)
    answers: list[object] = []
    sent = b""
    for body, content_range in steps:
        headers = {"Content-Type": "application/octet-stream"}
        if content_range:
            headers["Content-Range"] = content_range
        if streamed:  # no Content-Length: chunked transfer, the streamed path
            r = registry_client.patch(location, data=_streamed(body), headers=headers)
        else:
            r = registry_client.patch(location, data=body, headers=headers)
        error = r.json()["errors"][0]["code"] if r.status_code >= 400 else None
        answers.append((r.status_code, r.headers.get("Range"), error))
        if r.status_code == 202:
            sent += body
            location = r.headers["Location"]
    r = registry_client.put(location, params={"digest": sha256(sent)})
    answers.append(("finish", r.status_code))
    return answers


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_small_chunk_path_and_the_streamed_path_agree(registry_client, repo, scenario):
    fast = _run(registry_client, repo, SCENARIOS[scenario], streamed=False)
    streamed = _run(registry_client, repo, SCENARIOS[scenario], streamed=True)
    assert fast == streamed
    assert fast[-1] == ("finish", 201)
