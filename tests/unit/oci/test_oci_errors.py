"""Errors of the /v2 edge and the OCI services take their status from the one table."""

from __future__ import annotations

import importlib
import json
import pkgutil

import harbor_api.services.oci
import harbor_api.v2
from harbor_api.errors import ERROR_TABLE, HarborError, PayloadTooLargeError, oci_error_body


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def test_no_error_class_overrides_the_tables_status():
    for package in (harbor_api.v2, harbor_api.services.oci):
        for module in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    overriding = [cls.__qualname__ for cls in _subclasses(HarborError) if "status" in vars(cls)]
    assert overriding == []


def test_an_oversized_manifest_is_413_size_invalid_from_the_table():
    error = PayloadTooLargeError("body exceeds the limit")
    assert error.status == ERROR_TABLE[error.code].status == 413
    body = json.loads(oci_error_body(error.code, error.message))
    assert body["errors"][0]["code"] == "SIZE_INVALID"
