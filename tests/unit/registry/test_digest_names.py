import hashlib

import pytest

from harbor_api.errors import DigestInvalidError, NameInvalidError
from harbor_api.registry import paths
from harbor_api.registry.digest import digest_of, is_digest, parse_digest, verify
from harbor_api.registry.names import (
    is_reference,
    is_tag,
    project_of,
    validate_repository_name,
)

SHA256 = "sha256:" + "a" * 64
SHA512 = "sha512:" + "b" * 128


def test_parse_supported_digests():
    assert parse_digest(SHA256) == ("sha256", "a" * 64)
    assert str(parse_digest(SHA512)) == SHA512


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "sha256",
        "sha256:",
        "sha256:" + "a" * 63,
        "sha256:" + "A" * 64,
        "sha256:" + "g" * 64,
        "md5:" + "a" * 32,
        "sha512:" + "a" * 64,
        "SHA256:" + "a" * 64,
        "sha256:../../etc/passwd",
    ],
)
def test_rejects_bad_digests(bad):
    with pytest.raises(DigestInvalidError):
        parse_digest(bad)
    assert not is_digest(bad)


def test_digest_of_and_verify():
    data = b"content"
    assert digest_of(data) == "sha256:" + hashlib.sha256(data).hexdigest()
    assert digest_of(data, "sha512") == "sha512:" + hashlib.sha512(data).hexdigest()
    assert verify(data, digest_of(data)) and not verify(b"other", digest_of(data))


@pytest.mark.parametrize(
    "name", ["library/nginx", "team/app/api", "a/b", "my-proj/x_y.z", "p/a__b", "p/a--b", "p0/1"]
)
def test_valid_names(name):
    assert validate_repository_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "nginx",
        "Library/nginx",
        "p/../x",
        "p/./x",
        "p//x",
        "/p/x",
        "p/x/",
        "p/-x",
        "p/x-",
        "p/x..y",
        "p/" + "a" * 300,
        "p/x:tag",
        "p/x y",
    ],
)
def test_invalid_names(name):
    with pytest.raises(NameInvalidError):
        validate_repository_name(name)


def test_project_and_references():
    assert project_of("team/app/api") == "team"
    assert is_tag("v1.0-rc_1") and is_tag("_x") and is_tag("a" * 128)
    assert not is_tag("a" * 129) and not is_tag(".x") and not is_tag("-x")
    assert is_reference(SHA256) and not is_reference("bad:ref")


def test_storage_layout():
    assert paths.blob_key(SHA256) == f"blobs/sha256/aa/{'a' * 64}"
    assert paths.upload_data_key("0" * 32) == f"uploads/{'0' * 32}"
    with pytest.raises(ValueError):
        paths.upload_data_key("../etc")
    with pytest.raises(DigestInvalidError):
        paths.blob_key("sha256:../../x")
