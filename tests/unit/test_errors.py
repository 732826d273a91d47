"""The one exception hierarchy: every class has a table entry; both renderers agree with it."""

import importlib
import json
import pkgutil
import runpy
from pathlib import Path

import pytest

import handlers
import harbor_api
from harbor_api import errors
from harbor_api.errors import ERROR_TABLE, HarborError

ROOT = Path(__file__).resolve().parents[2]


def _import_every_module() -> None:
    """Import the whole product, so a HarborError subclass defined anywhere is seen."""
    for package in (harbor_api, handlers):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".db.migrations." not in info.name:  # alembic scripts run only under alembic
                importlib.import_module(info.name)


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found


_import_every_module()
ERROR_CLASSES = sorted(
    {HarborError, *_all_subclasses(HarborError)}, key=lambda c: f"{c.__module__}.{c.__qualname__}"
)


def test_the_walk_finds_errors_outside_errors_py():
    """Not only the classes of errors.py: a subclass anywhere in the package is checked."""
    assert len(ERROR_CLASSES) > 20
    assert all(cls.__module__.startswith(("harbor_api", "handlers")) for cls in ERROR_CLASSES)
    assert errors.DirectoryUnreachableError in ERROR_CLASSES


def test_every_error_class_has_a_table_entry():
    missing = [cls.__qualname__ for cls in ERROR_CLASSES if cls.code not in ERROR_TABLE]
    assert missing == []


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_no_class_overrides_the_tables_status(cls):
    """The status is the table's, never a class attribute beside it (SIZE_INVALID was 400 in
    the table and 413 in a subclass)."""
    overriding = [
        k.__qualname__
        for k in cls.__mro__[:-1]
        if k is not HarborError and issubclass(k, HarborError) and "status" in vars(k)
    ]
    assert overriding == []


def test_table_entries_are_well_formed():
    for code, spec in ERROR_TABLE.items():
        assert code == code.upper() and " " not in code, code
        assert 400 <= spec.status <= 599 and spec.message, code


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_status_and_default_message_come_from_the_table(cls):
    exc = cls()
    assert exc.status == ERROR_TABLE[cls.code].status
    if issubclass(cls, errors.DirectoryError):  # a documented refinement of the message
        assert exc.message == cls.reason
        assert cls("timed out").message == f"{cls.reason}: timed out"
    else:
        assert exc.message == ERROR_TABLE[cls.code].message
        assert cls("custom").message == "custom"


@pytest.mark.parametrize(
    "cls", [c for c in ERROR_CLASSES if c is not HarborError], ids=lambda c: c.__qualname__
)
def test_every_error_class_lives_in_errors_py_and_its_doc(cls):
    """One hierarchy in one module, every class named in docs/errors.md."""
    assert cls.__module__ == "harbor_api.errors"
    assert f"`{cls.__qualname__}`" in (ROOT / "docs" / "errors.md").read_text()


def test_api_envelope_is_harbors():
    body = json.loads(errors.api_error_body("NOT_FOUND", "project x not found"))
    assert body == {"errors": [{"code": "NOT_FOUND", "message": "project x not found"}]}


def test_oci_envelope_uses_distribution_codes_and_detail():
    body = json.loads(errors.oci_error_body("FORBIDDEN", "no push", {"repo": "a/b"}))
    assert body == {"errors": [{"code": "DENIED", "message": "no push", "detail": {"repo": "a/b"}}]}
    plain = json.loads(errors.oci_error_body("MANIFEST_UNKNOWN", "gone"))
    assert plain == {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "gone"}]}


def test_internal_errors_never_leak_their_message():
    assert (
        errors.public_message(errors.InternalError("db password is hunter2"))
        == errors.GENERIC_SERVER_MESSAGE
    )
    assert errors.public_message(errors.ServiceUnavailableError("redis down")) == "redis down"
    assert errors.public_message(errors.ConflictError("exists")) == "exists"


def test_error_documentation_matches_the_table():
    generator = runpy.run_path(str(ROOT / "scripts" / "gen_error_docs.py"))
    doc = (ROOT / "docs" / "errors.md").read_text()
    assert doc == generator["render"](), "docs/errors.md is stale: run scripts/gen_error_docs.py"
