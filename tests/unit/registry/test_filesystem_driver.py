import os

import pytest

from harbor_api.registry.storage import make_driver
from harbor_api.registry.storage.filesystem import FilesystemDriver
from tests.unit.registry.driver_suite import DriverSuite


@pytest.fixture
def driver(tmp_path):
    return FilesystemDriver(tmp_path / "root")


class TestFilesystemDriver(DriverSuite):
    def test_no_temporary_files_left(self, driver):
        driver.put("a/b", b"x")
        writer = driver.writer("a/c")
        writer.write(b"y")
        writer.cancel()
        assert os.listdir(driver.root / "a") == ["b"]

    def test_factory(self, tmp_path):
        assert isinstance(make_driver("filesystem", tmp_path), FilesystemDriver)
        with pytest.raises(ValueError):
            make_driver("nonsense", tmp_path)


def test_lock_is_exclusive_until_released(driver):
    from harbor_api.registry.storage.base import StorageBusyError

    held = driver.lock("uploads/s1")  # creates an empty object to lock
    assert driver.exists("uploads/s1")
    with pytest.raises(StorageBusyError):
        driver.lock("uploads/s1")  # another holder, even in this process
    other = driver.lock("uploads/s2")  # other keys are independent
    held.release()
    held.release()  # idempotent
    driver.lock("uploads/s1").release()
    other.release()


def test_stale_temporaries_are_removed_fresh_ones_and_objects_kept(driver):
    import time

    driver.put("blobs/sha256/ab/kept", b"x")
    folder = driver.root / "blobs" / "sha256" / "ab"
    old, fresh = folder / "abc.tmp-old", folder / "abc.tmp-fresh"
    old.write_bytes(b"interrupted")
    fresh.write_bytes(b"being written")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    os.utime(folder / "kept", (time.time() - 7200, time.time() - 7200))
    assert driver.remove_stale_temporaries("blobs", time.time() - 3600) == 1
    assert sorted(os.listdir(folder)) == ["abc.tmp-fresh", "kept"]
    assert driver.remove_stale_temporaries("uploads", time.time()) == 0  # no such prefix
