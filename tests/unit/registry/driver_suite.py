"""The storage driver contract, written once: every driver's test module subclasses
:class:`DriverSuite` and provides a ``driver`` fixture."""

from __future__ import annotations

import io

import pytest

from harbor_api.registry.storage.base import StorageError, StorageNotFoundError


class DriverSuite:
    def test_put_get_and_stat(self, driver):
        assert driver.put("a/b/c", b"hello") == 5
        assert driver.get("a/b/c") == b"hello"
        info = driver.stat("a/b/c")
        assert info.size == 5 and not info.is_dir
        assert driver.exists("a/b/c") and not driver.exists("a/b/x")

    def test_put_from_iterator_and_file(self, driver):
        assert driver.put("it", iter([b"ab", b"", b"cd"])) == 4
        assert driver.get("it") == b"abcd"
        assert driver.put("file", io.BytesIO(b"x" * 3_000_000)) == 3_000_000
        assert driver.stat("file").size == 3_000_000

    def test_large_streamed_writes(self, driver):
        chunk = bytes(range(256)) * (7 * 4096)  # 7 MiB: crosses writeback thresholds
        with driver.writer("large") as writer:
            for _ in range(3):
                writer.write(chunk)
        with driver.writer("large", resume_at=len(chunk)) as writer:
            writer.write(memoryview(chunk)[:100])
        assert driver.stat("large").size == len(chunk) + 100
        assert b"".join(driver.read("large", len(chunk) - 5)) == chunk[-5:] + chunk[:100]

    def test_put_replaces_atomically(self, driver):
        driver.put("k", b"old")
        driver.put("k", b"new content")
        assert driver.get("k") == b"new content"

    def test_failed_put_leaves_nothing(self, driver):
        def broken():
            yield b"partial"
            raise RuntimeError("source failed")

        with pytest.raises(RuntimeError):
            driver.put("broken", broken())
        assert not driver.exists("broken")
        assert driver.list("") == [] or "broken" not in driver.list("")

    def test_missing_keys(self, driver):
        with pytest.raises(StorageNotFoundError):
            driver.get("nope")
        with pytest.raises(StorageNotFoundError):
            driver.stat("nope")
        with pytest.raises(StorageNotFoundError):
            driver.read("nope")
        with pytest.raises(StorageNotFoundError):
            driver.delete("nope")
        with pytest.raises(StorageNotFoundError):
            driver.move("nope", "other")

    def test_ranged_reads(self, driver):
        data = bytes(range(256)) * 100
        driver.put("r", data)
        assert b"".join(driver.read("r")) == data
        assert b"".join(driver.read("r", 10, 20)) == data[10:30]
        assert b"".join(driver.read("r", 25_000)) == data[25_000:]
        chunks = list(driver.read("r", 0, None, chunk_size=1000))
        assert len(chunks) == 26 and b"".join(chunks) == data
        assert b"".join(driver.read("r", len(data))) == b""

    def test_new_writer_commit_and_cancel(self, driver):
        writer = driver.writer("w/one")
        writer.write(b"abc")
        writer.write(bytearray(b"def"))
        assert writer.size == 6
        assert not driver.exists("w/one")  # invisible until committed
        writer.commit()
        assert driver.get("w/one") == b"abcdef"
        cancelled = driver.writer("w/two")
        cancelled.write(b"zzz")
        cancelled.cancel()
        assert not driver.exists("w/two")
        assert driver.list("w") == ["w/one"]

    def test_resuming_writer_appends_and_truncates(self, driver):
        driver.put("up", b"0123456789")
        with driver.writer("up", resume_at=4) as writer:
            writer.write(b"ab")
            assert writer.size == 6
        assert driver.get("up") == b"0123ab"
        writer = driver.writer("up", resume_at=6)
        writer.write(b"lost")
        writer.cancel()
        assert driver.get("up") == b"0123ab"
        with pytest.raises(StorageError):
            driver.writer("up", resume_at=99)
        with pytest.raises(StorageNotFoundError):
            driver.writer("missing", resume_at=0)

    def test_in_place_writer_creates_empties_and_cancels(self, driver):
        with driver.in_place_writer("session/a") as writer:
            writer.write(b"first")
        assert driver.get("session/a") == b"first"
        with driver.in_place_writer("session/a") as writer:  # a retried first chunk
            writer.write(b"2nd")
        assert driver.get("session/a") == b"2nd"
        with driver.writer("session/a", resume_at=3) as writer:  # later chunks append
            writer.write(b"+3rd")
        assert driver.get("session/a") == b"2nd+3rd"
        cancelled = driver.in_place_writer("session/b")
        cancelled.write(b"zzz")
        cancelled.cancel()
        assert not driver.exists("session/b")

    def test_list_move_delete_walk(self, driver):
        driver.put("d/x/1", b"1")
        driver.put("d/x/2", b"2")
        driver.put("d/y", b"3")
        assert driver.list("d") == ["d/x", "d/y"]
        assert driver.list("d/x") == ["d/x/1", "d/x/2"]
        assert driver.list("nothing/here") == []
        assert sorted(driver.walk("d")) == ["d/x/1", "d/x/2", "d/y"]
        driver.move("d/y", "e/moved")
        assert driver.get("e/moved") == b"3" and not driver.exists("d/y")
        driver.put("e/target", b"old")
        driver.move("e/moved", "e/target")
        assert driver.get("e/target") == b"3"
        driver.delete("d")
        assert not driver.exists("d/x/1")

    def test_rejects_escaping_keys(self, driver):
        for key in ("../x", "a/../../x", "a//b", "", "a/./b"):
            with pytest.raises(ValueError):
                driver.put(key, b"x")
